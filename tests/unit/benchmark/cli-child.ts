/**
 * Runs `benchmarkCommand` in a child node process, as a user runs the CLI: its own event loop, no jest
 * module sandbox, and no TypeScript compiler in its heap (the sources are transpiled to a temporary
 * directory first, as the bundle would hold them), so timing figures are the command's own.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

const ROOT = path.resolve(__dirname, '..', '..', '..');
let built: string | undefined;

/** src/core, src/config, src/prices and src/benchmark as CommonJS in a temporary directory (once per test file). */
export function transpiledSources(): string {
  if (built) return built;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-src-'));
  for (const dir of ['src/core', 'src/config', 'src/prices', 'src/benchmark']) {
    for (const file of fs.readdirSync(path.join(ROOT, dir))) {
      if (!file.endsWith('.ts')) continue;
      const source = fs.readFileSync(path.join(ROOT, dir, file), 'utf8');
      const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
      fs.mkdirSync(path.join(out, dir), { recursive: true });
      fs.writeFileSync(path.join(out, dir, file.replace(/\.ts$/, '.js')), js);
    }
  }
  // Packages resolve from the repository's node_modules.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(out, 'node_modules'));
  built = out;
  return out;
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The command's script in the transpiled tree, as the CLI bundle is: run as a process it runs the command
 * (arguments as JSON in argv[2]); run as a worker thread (`--workers N`) it runs the benchmark worker.
 */
function commandScript(dir: string): string {
  const file = path.join(dir, 'benchmark-command.js');
  if (!fs.existsSync(file)) {
    fs.writeFileSync(
      file,
      `'use strict';
const { isMainThread } = require('worker_threads');
if (isMainThread) {
  const { benchmarkCommand } = require('./src/benchmark/cli.js');
  const { consoleReporter } = require('./src/core/log.js');
  benchmarkCommand(JSON.parse(process.argv[2]), consoleReporter()).then((code) => { process.exitCode = code; });
} else {
  const worker = require('./src/benchmark/worker.js');
  if (worker.isBenchmarkWorker()) worker.runBenchmarkWorker();
}
`,
    );
  }
  return file;
}

export function runBenchmarkCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ChildResult> {
  const script = commandScript(transpiledSources());
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(args)], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The JSON the command printed with --json (from the line holding only "{" to the end). */
export function printedJson(stdout: string): Record<string, unknown> {
  const start = stdout.indexOf('\n{\n');
  if (start < 0) throw new Error(`no JSON in output:\n${stdout.slice(-2000)}`);
  return JSON.parse(stdout.slice(start + 1)) as Record<string, unknown>;
}
