/**
 * The built CLI bundle (node scripts/build.js cli) as a user runs it: `model-deploy benchmark` against
 * a loopback OpenAI-compatible server in its own process, the key from an environment variable.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { ROOT } from '../helpers/bundle';
import { startFakeOpenAi } from '../unit/benchmark/fake-openai';

const KEY = 'sk-process-bench-4Rt7Yq2Wm9Lp3Xc8';
const CLI = path.join(ROOT, 'dist', 'cli', 'index.js');

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('dist/cli benchmark', () => {
  it('--help prints the usage and exits 0', async () => {
    const r = await run(['benchmark', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('model-deploy benchmark --url URL');
  });

  it('measures the loopback server: table, vLLM-named JSON, TTFT near the server\'s, the key never printed', async () => {
    const server = await startFakeOpenAi({ ttftMs: 100, itlMs: 10, tokens: 16, apiKey: KEY, model: 'served' });
    try {
      const r = await run(['benchmark', '--url', server.url, '--api-key-env', 'BENCH_KEY', '--concurrency', '4', '--requests', '16', '--prompt-tokens', '32', '--output-tokens', '16', '--json'], { BENCH_KEY: KEY });
      expect(r.out).not.toContain(KEY);
      expect(r.code).toBe(0);
      expect(r.out).toContain('Serving Benchmark Result');
      const json = JSON.parse(r.out.slice(r.out.indexOf('\n{\n') + 1)) as Record<string, number>;
      expect(json).toMatchObject({ completed: 16, failed: 0, total_output_tokens: 256, max_concurrency: 4, model_id: 'served' });
      expect(json.median_ttft_ms).toBeGreaterThan(90);
      expect(json.median_ttft_ms).toBeLessThan(150);
      expect(json.median_itl_ms).toBeGreaterThan(5);
    } finally {
      await server.close();
    }
  });

  it('an unset key variable is a setup error (exit 2) that sends nothing', async () => {
    const server = await startFakeOpenAi({ ttftMs: 10, itlMs: 1, tokens: 2, apiKey: KEY });
    try {
      const r = await run(['benchmark', '--url', server.url, '--api-key-env', 'NOT_SET', '--requests', '2']);
      expect(r.code).toBe(2);
      expect(r.out).toContain('--api-key-env NOT_SET: the variable is not set or empty');
      expect((await server.stats()).requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
