/**
 * The built CLI bundle's timing (moved out of tests/process/benchmark-cli.test.ts, which keeps what the
 * command prints): `node dist/cli/index.js benchmark` against a loopback server on the process test's
 * schedule (TTFT 100 ms, a token every 10 ms, 16 tokens, concurrency 4, 16 requests), and the reference
 * client of ./reference-client.ts on the same server in the same run. TTFT and ITL are reported as the
 * bundle's over the reference's (target within 10%), the schedule beside them.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import type { BenchRow } from './types';
import { startFakeOpenAi } from '../tests/unit/benchmark/fake-openai';
import { printedJson } from '../tests/unit/benchmark/cli-child';
import { Figures, reference } from './reference-client';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');
const TTFT = 100;
const ITL = 10;
const TOKENS = 16;
const CONCURRENCY = 4;
const REQUESTS = 16;
const KEY = 'sk-cli-bundle-bench-8Qw3Er5Ty7Ui9Op1';

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export default async function (): Promise<BenchRow[]> {
  const server = await startFakeOpenAi({ ttftMs: TTFT, itlMs: ITL, tokens: TOKENS, apiKey: KEY, record: false });
  try {
    const ref = await reference(server.url, KEY, TOKENS, CONCURRENCY, REQUESTS);
    server.reset();
    const r = await runCli(
      ['benchmark', '--url', server.url, '--api-key-env', 'BENCH_KEY', '--concurrency', String(CONCURRENCY), '--requests', String(REQUESTS), '--prompt-tokens', '32', '--output-tokens', String(TOKENS), '--json'],
      { BENCH_KEY: KEY },
    );
    if (r.code !== 0) throw new Error(`dist/cli benchmark exited ${r.code}: ${r.stderr.slice(-500)}`);
    const m = printedJson(r.stdout) as unknown as Figures;
    const schedule: Partial<Figures> = { median_ttft_ms: TTFT, median_itl_ms: ITL };
    return (['median_ttft_ms', 'median_itl_ms'] as const).map((figure) => {
      const ratio = m[figure] / ref[figure];
      return {
        name: `dist/cli c=${CONCURRENCY}: ${figure}, bundle / reference client`,
        value: Number(ratio.toFixed(3)),
        unit: `x (${m[figure].toFixed(2)} vs ${ref[figure].toFixed(2)}; schedule ${schedule[figure]!.toFixed(2)})`,
        target: 'within 10%',
        ok: Math.abs(ratio - 1) <= 0.1,
      };
    });
  } finally {
    await server.close();
  }
}
