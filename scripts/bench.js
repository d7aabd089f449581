#!/usr/bin/env node
/**
 * npm run bench: bundle sizes, cold start against bare node measured in the same run, peak memory,
 * then every bench/*.bench.ts (domain figures: cost rendering, build fast path, promotion, ...).
 * Figures are printed with their targets; nothing here is a test.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 15);
const ACTIONS = ['build-model', 'deploy-endpoint', 'rotate-key', 'promote-model', 'estimate-cost'];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function dirSize(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirSize(p);
    else if (entry.name.endsWith('.js')) total += fs.statSync(p).size;
  }
  return total;
}

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-'));
const baseEnv = { PATH: process.env.PATH, HOME: workspace, GITHUB_WORKSPACE: workspace, GITHUB_ACTIONS: 'true' };

/** Wall time of one process run, in ms; and its peak RSS in MiB when asked. */
function timeRun(args, env, withRss = false) {
  const rssFile = path.join(workspace, 'rss');
  const fullArgs = withRss ? ['-r', path.join(__dirname, 'bench-preload.js'), ...args] : args;
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, fullArgs, { cwd: workspace, env: { ...baseEnv, ...env, MODEL_DEPLOY_BENCH_RSS_FILE: rssFile }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rss = withRss && fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8')) / 1024 : undefined;
  return { ms, rss, stdout: r.stdout, status: r.status };
}

const rows = [];
const row = (name, value, unit, target, ok) => rows.push({ name, value, unit, target, ok });

// Sizes: the entry plus its flow bundle (everything the runner may load for that action).
for (const name of [...ACTIONS, 'main', 'cli']) {
  const dir = path.join(root, 'dist', name);
  if (!fs.existsSync(dir)) continue;
  const bytes = dirSize(dir);
  row(`size ${name} (all .js)`, +(bytes / 1024 / 1024).toFixed(2), 'MB', name === 'cli' ? undefined : '<= 1.5 MB', name === 'cli' ? undefined : bytes <= 1.5 * 1024 * 1024);
}

// Cold start: bare node, then each action rejecting a missing/invalid input (interleaved runs so
// machine noise hits every subject alike).
const subjects = [{ key: 'bare node -e ""', args: ['-e', ''], env: {} }];
const rejectEnv = {
  'build-model': { 'INPUT_TIMEOUT-MINUTES': 'soon' },
  'deploy-endpoint': { INPUT_MODE: 'yolo' },
  'rotate-key': { 'INPUT_GRACE-PERIOD-HOURS': 'long' },
  'promote-model': {},
  'estimate-cost': { 'INPUT_COMMENT-BEHAVIOR': 'shout' },
};
for (const name of ACTIONS) {
  subjects.push({ key: `${name} rejects bad input`, args: [path.join(root, 'dist', name, 'index.js')], env: rejectEnv[name] });
}
// The first line of real work: the flow loads and reports the missing spec file.
for (const name of ACTIONS) {
  subjects.push({
    key: `${name} first flow line (spec missing)`,
    args: [path.join(root, 'dist', name, 'index.js')],
    env: { 'INPUT_TARGET-ENVIRONMENT': 'prod', INPUT_CONFIG: 'missing.yml' },
    flow: true,
  });
}
const times = new Map(subjects.map((s) => [s.key, []]));
const rss = new Map(subjects.map((s) => [s.key, []]));
for (let i = 0; i < RUNS; i++) {
  for (const s of subjects) {
    const r = timeRun(s.args, s.env);
    if (i === 0 && s.key !== subjects[0].key && !/::error/.test(r.stdout)) {
      console.error(`warning: ${s.key} did not report an error: ${r.stdout.slice(0, 200)}`);
    }
    times.get(s.key).push(r.ms);
  }
}
for (const s of subjects) for (let i = 0; i < 3; i++) rss.get(s.key).push(timeRun(s.args, s.env, true).rss);
const bare = median(times.get(subjects[0].key));
row('cold start: bare node', +bare.toFixed(1), 'ms (median)');
row('peak memory: bare node', +median(rss.get(subjects[0].key)).toFixed(1), 'MiB');
for (const s of subjects.slice(1)) {
  const t = median(times.get(s.key));
  const mem = median(rss.get(s.key));
  if (s.flow) {
    row(`cold start: ${s.key}`, +t.toFixed(1), `ms (${(t / bare).toFixed(2)}x bare)`);
    row(`peak memory: ${s.key}`, +mem.toFixed(1), 'MiB');
  } else {
    row(`cold start: ${s.key}`, +(t / bare).toFixed(2), `x bare (${t.toFixed(1)} ms)`, '<= 1.5x', t / bare <= 1.5);
    row(`peak memory: ${s.key}`, +mem.toFixed(1), 'MiB', '< 50 MiB', mem < 50);
  }
}

// Domain benchmarks, each file in its own process: clients and environment (AWS_ENDPOINT_URL of its
// loopback servers) must not leak from one benchmark into the next.
const runner = `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(path.join(root, 'tsconfig.json'))} });
const mod = require(process.argv[1]);
Promise.resolve((mod.default || mod.bench)()).then((rows) => process.stdout.write('\\n@@BENCH@@' + JSON.stringify(rows) + '\\n'), (err) => { process.stdout.write('\\n@@BENCH@@' + JSON.stringify([{ name: 'FAILED ' + (err && err.message), value: NaN, unit: '', ok: false }]) + '\\n'); });`;
(async () => {
  const benchDir = path.join(root, 'bench');
  const files = fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).sort() : [];
  for (const f of files) {
    const r = spawnSync(process.execPath, ['-e', runner, path.join(benchDir, f)], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
    const line = (r.stdout || '').split('\n').find((l) => l.startsWith('@@BENCH@@'));
    const result = line ? JSON.parse(line.slice('@@BENCH@@'.length)) : [{ name: `FAILED (exit ${r.status}) ${(r.stderr || '').slice(-300)}`, value: NaN, unit: '', ok: false }];
    for (const row of result) rows.push({ ...row, name: `${f.replace('.bench.ts', '')}: ${row.name}` });
  }
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\nmodel-deploy-actions benchmarks (node ${process.version}, ${os.cpus().length} cores, ${RUNS} runs each)\n`);
  for (const r of rows) {
    const mark = r.ok === undefined ? '  ' : r.ok ? 'ok' : '!!';
    console.log(`${mark} ${r.name.padEnd(width)}  ${String(r.value).padStart(9)} ${r.unit}${r.target ? `   target ${r.target}` : ''}`);
  }
  const misses = rows.filter((r) => r.ok === false).length;
  console.log(`\n${rows.length} figures, ${misses} missing their target`);
  fs.rmSync(workspace, { recursive: true, force: true });
})();
