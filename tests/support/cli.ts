/**
 * The built CLI (dist/cli) as a user runs it: a process with only PATH and the variables given, in a
 * folder of the test's choosing, stdin not a terminal (so commands that would ask need --yes).
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { ROOT } from './bundle';

export const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');

export interface CliRun {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  out: string;
  /** stdout alone (what --json prints). */
  stdout: string;
}

export function runCli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, stdout });
    });
  });
}
