/**
 * The built CLI's start (issue 26.2: it loads only the code and clients of the command it runs): process
 * start → exit of `model-deploy --help` and of `validate` on the bundled example, against bare `node -e 0`
 * in the same run (interleaved, medians), with each one's peak memory (scripts/bench-preload.js).
 *
 * The built CLI bundle's timing (moved out of tests/process/benchmark-cli.test.ts, which keeps what the
 * command prints): `node dist/cli/index.js benchmark` against a loopback server on the process test's
 * schedule (TTFT 100 ms, a token every 10 ms, 16 tokens, concurrency 4, 16 requests), and the reference
 * client of ./reference-client.ts on the same server in the same run. TTFT and ITL are reported as the
 * bundle's over the reference's (target within 10%), the schedule beside them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './types';
import { startFakeOpenAi } from '../tests/unit/benchmark/fake-openai';
import { printedJson } from '../tests/unit/benchmark/cli-child';
import { Figures, reference } from './reference-client';
import { CLI, runCli } from '../tests/support/cli';

const ROOT = path.resolve(__dirname, '..');
const TTFT = 100;
const ITL = 10;
const TOKENS = 16;
const CONCURRENCY = 4;
const REQUESTS = 16;
const KEY = 'sk-cli-bundle-bench-8Qw3Er5Ty7Ui9Op1';

const PRELOAD = path.join(ROOT, 'scripts', 'bench-preload.js');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** One process, start to exit: wall milliseconds and peak resident MiB. */
function startOnce(args: string[], rssFile: string): { ms: number; mib: number; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-r', PRELOAD, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', MODEL_DEPLOY_BENCH_RSS_FILE: rssFile }, stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, mib: Number(fs.readFileSync(rssFile, 'utf8')) / 1024, status: r.status };
}

/** --help and validate against bare node, interleaved so machine noise hits each alike. */
function startRows(runs = 11): BenchRow[] {
  const rssFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'md-cli-start-')), 'rss');
  const subjects = [
    { key: 'bare node -e 0', args: ['-e', '0'] },
    { key: '--help', args: [CLI, '--help'], target: 1.5, memory: 22 },
    { key: 'validate --config examples/model-deploy.yml', args: [CLI, 'validate', '--config', 'examples/model-deploy.yml'], target: 2.5, memory: 22 },
  ];
  const ms = new Map<string, number[]>(subjects.map((s) => [s.key, []]));
  const mib = new Map<string, number[]>(subjects.map((s) => [s.key, []]));
  const failed = new Set<string>();
  for (let i = 0; i < runs; i++) {
    for (const s of subjects) {
      const r = startOnce(s.args, rssFile);
      if (r.status !== 0) failed.add(s.key);
      ms.get(s.key)!.push(r.ms);
      mib.get(s.key)!.push(r.mib);
    }
  }
  const bare = median(ms.get(subjects[0]!.key)!);
  const bareMib = median(mib.get(subjects[0]!.key)!);
  return subjects.slice(1).flatMap((s) => {
    const t = median(ms.get(s.key)!);
    const m = median(mib.get(s.key)!);
    const ok = !failed.has(s.key);
    return [
      { name: `dist/cli start: ${s.key}, process start to exit / bare node (median of ${runs})${ok ? '' : ' FAILED'}`, value: Number((t / bare).toFixed(2)), unit: `x (${t.toFixed(1)} vs ${bare.toFixed(1)} ms)`, target: `<= ${s.target}x`, ok: ok && t / bare <= s.target! },
      // Over bare node's own peak in the same run: Node 24 alone peaks at ~62 MiB here, Node 20 at ~38 (the
      // former 60 MiB ceiling was Node 20's bare peak + 22).
      { name: `dist/cli start: ${s.key}, peak memory over bare node`, value: Number((m - bareMib).toFixed(1)), unit: `MiB (${m.toFixed(1)} vs bare node ${bareMib.toFixed(1)})`, target: `<= ${s.memory} MiB`, ok: m - bareMib <= s.memory! },
    ];
  });
}

export default async function (): Promise<BenchRow[]> {
  const start = startRows();
  const server = await startFakeOpenAi({ ttftMs: TTFT, itlMs: ITL, tokens: TOKENS, apiKey: KEY, record: false });
  try {
    const ref = await reference(server.url, KEY, TOKENS, CONCURRENCY, REQUESTS);
    server.reset();
    const r = await runCli(
      ['benchmark', '--url', server.url, '--api-key-env', 'BENCH_KEY', '--concurrency', String(CONCURRENCY), '--requests', String(REQUESTS), '--prompt-tokens', '32', '--output-tokens', String(TOKENS), '--json'],
      { BENCH_KEY: KEY },
    );
    if (r.code !== 0) throw new Error(`dist/cli benchmark exited ${r.code}: ${r.out.slice(-500)}`);
    const m = printedJson(r.stdout) as unknown as Figures;
    const schedule: Partial<Figures> = { median_ttft_ms: TTFT, median_itl_ms: ITL };
    return start.concat((['median_ttft_ms', 'median_itl_ms'] as const).map((figure) => {
      const ratio = m[figure] / ref[figure];
      return {
        name: `dist/cli c=${CONCURRENCY}: ${figure}, bundle / reference client`,
        value: Number(ratio.toFixed(3)),
        unit: `x (${m[figure].toFixed(2)} vs ${ref[figure].toFixed(2)}; schedule ${schedule[figure]!.toFixed(2)})`,
        target: 'within 10%',
        ok: Math.abs(ratio - 1) <= 0.1,
      };
    }));
  } finally {
    await server.close();
  }
}
