#!/usr/bin/env node
/**
 * npm run bench: bundle sizes, cold start against bare node measured in the same run, peak memory,
 * start-up to the first AWS request (ratio to bare node, same run), then every bench/*.bench.ts
 * (domain figures: cost rendering, build fast path, promotion, and the timing the tests leave out:
 * the benchmark command's accuracy, the CLI bundle's TTFT/ITL, the load generator's cap, the alias
 * bomb's stop, the gateway's deadlines).
 * Figures are printed with their targets; nothing here is a test. The bench files run on this Node and on
 * Node 24 when its binary is there (BENCH_NODE24); `--write-docs` rewrites docs/benchmark.md's results table.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS || 15);
// BENCH_ONLY=startup: sizes and start-up to the first AWS request only (quick check of a build).
// BENCH_ONLY=accuracy,gateway: only those bench/*.bench.ts files, none of the process figures.
const STARTUP_ONLY = process.env.BENCH_ONLY === 'startup';
const ONLY_FILES = process.env.BENCH_ONLY && !STARTUP_ONLY ? process.env.BENCH_ONLY.split(',').map((f) => `${f.trim()}.bench.ts`) : undefined;
const ACTIONS = ['build-model', 'deploy-endpoint', 'rotate-key', 'promote-model', 'estimate-cost'];
// The bench files also run on Node 24 (the actions' runtime; .ci/run installs it) when its binary is found:
// BENCH_NODE24=/path/to/node, or .ci/run's place. BENCH_NODE24=0 runs them on this Node only.
const NODE24 = (() => {
  if (process.env.BENCH_NODE24 === '0') return undefined;
  const candidates = [process.env.BENCH_NODE24, path.join(process.env.RUNNER_TEMP || process.env.TMPDIR || os.tmpdir(), 'model-deploy-node-24.21.0', 'node_modules', 'node', 'bin', 'node')];
  return candidates.find((c) => c && fs.existsSync(c));
})();
// --write-docs: the results table of docs/benchmark.md (between its bench:results markers) is rewritten from
// this run's rows of the files below, one column per Node.
const WRITE_DOCS = process.argv.includes('--write-docs');
// The figures of issue #26: the serving path, the benchmark client, the CLI's start, the PR comment, the waits.
const DOC_FILES = ['gateway', 'benchmark', 'accuracy', 'cli-bundle', 'cost', 'deploy'];

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

// Sizes: every .js file of dist/<action>/ (the loader, bundle.js and the chunks webpack splits off),
// and bundle.js alone (what every start loads; the chunks are credential providers loaded on demand).
const MB = 1024 * 1024;
for (const name of ONLY_FILES ? [] : [...ACTIONS, 'main', 'cli']) {
  const dir = path.join(root, 'dist', name);
  if (!fs.existsSync(dir)) continue;
  const bytes = dirSize(dir);
  const isAction = name !== 'cli';
  row(`size ${name} (all .js)`, +(bytes / MB).toFixed(2), 'MB', isAction ? '<= 1 MB' : undefined, isAction ? bytes <= MB : undefined);
  const main = path.join(dir, 'bundle.js');
  if (fs.existsSync(main)) row(`size ${name} (bundle.js, loaded at start)`, +(fs.statSync(main).size / MB).toFixed(2), 'MB');
}

// Cold start: bare node, then each action rejecting a missing/invalid input (interleaved runs so
// machine noise hits every subject alike).
const PROCESS_FIGURES = !STARTUP_ONLY && !ONLY_FILES;
const subjects = PROCESS_FIGURES ? [{ key: 'bare node -e ""', args: ['-e', ''], env: {} }] : [];
const rejectEnv = {
  'build-model': { 'INPUT_TIMEOUT-MINUTES': 'soon' },
  'deploy-endpoint': { INPUT_MODE: 'yolo' },
  'rotate-key': { 'INPUT_GRACE-PERIOD-HOURS': 'long' },
  'promote-model': {},
  'estimate-cost': { 'INPUT_COMMENT-BEHAVIOR': 'shout' },
};
for (const name of PROCESS_FIGURES ? ACTIONS : []) {
  subjects.push({ key: `${name} rejects bad input`, args: [path.join(root, 'dist', name, 'index.js')], env: rejectEnv[name] });
}
// The first line of real work: the flow loads and reports the missing spec file.
for (const name of PROCESS_FIGURES ? ACTIONS : []) {
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
if (PROCESS_FIGURES) {
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
      // No target since one bundle per action (issue 11): the 1.5x / 50 MiB targets were the separate
      // preflight bundle's, which the restructure removed; the start-up target is the first AWS request's.
      row(`cold start: ${s.key}`, +(t / bare).toFixed(2), `x bare (${t.toFixed(1)} ms)`);
      row(`peak memory: ${s.key}`, +mem.toFixed(1), 'MiB');
    }
  }
}

// Start-up to the first AWS request: process start -> the first TCP connection to the AWS endpoint
// (AWS_ENDPOINT_URL points at a loopback server that only records the connect time), against a bare
// `node` that opens a connection to the same server. Runs interleaved so noise hits every subject alike.
const net = require('net');
const { spawn } = require('child_process');
const ACCOUNT = '111111111111';
const FIRST_REQUEST_INPUTS = {
  'deploy-endpoint': {
    DEPLOYMENT: 'qwen-chat', ENVIRONMENT: 'dev',
    'IMAGE-URI': `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:0123456`,
    'MODEL-DATA-URL': `s3://model-deploy-${ACCOUNT}-us-east-1/models/qwen-chat/`,
  },
  'build-model': { DEPLOYMENT: 'qwen-chat', ENVIRONMENT: 'dev' },
  'rotate-key': { DEPLOYMENT: 'code-assistant', ENVIRONMENT: 'dev', REGION: 'us-east-1' },
  'promote-model': { DEPLOYMENT: 'qwen-chat', 'TARGET-ENVIRONMENT': 'prod', 'MODEL-DATA-URL': `s3://model-deploy-${ACCOUNT}-us-east-1/models/qwen-chat/model.tar.gz` },
};

/** ms from spawn to the server accepting the child's first connection (NaN if it exits first). */
function timeToFirstConnect(server, args, env, cwd) {
  return new Promise((resolve) => {
    let settled = false;
    let output = '';
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const finish = (ms) => {
      if (settled) return;
      settled = true;
      server.off('connection', onConnection);
      child.kill('SIGKILL');
      resolve({ ms, output });
    };
    const onConnection = (socket) => {
      socket.destroy();
      finish(Number(process.hrtime.bigint() - start) / 1e6);
    };
    server.on('connection', onConnection);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', () => finish(NaN));
  });
}

async function firstRequestFigures() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-first-'));
  fs.copyFileSync(path.join(root, 'examples', 'model-deploy.yml'), path.join(ws, 'model-deploy.yml'));
  for (const f of ['output', 'summary']) fs.writeFileSync(path.join(ws, f), '');
  fs.writeFileSync(path.join(ws, 'event.json'), '{}');
  const env = {
    ...baseEnv, GITHUB_WORKSPACE: ws, GITHUB_OUTPUT: path.join(ws, 'output'), GITHUB_STEP_SUMMARY: path.join(ws, 'summary'),
    GITHUB_EVENT_PATH: path.join(ws, 'event.json'), GITHUB_EVENT_NAME: 'workflow_dispatch', GITHUB_REPOSITORY: 'acme/models',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '1', RUNNER_TEMP: ws,
    AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench-secret', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
  };
  const subjects = [{ key: 'bare node', args: ['-e', `require('net').connect(${port}, '127.0.0.1')`], env }];
  for (const [name, inputs] of Object.entries(FIRST_REQUEST_INPUTS)) {
    const actionEnv = { ...env };
    for (const [k, v] of Object.entries(inputs)) actionEnv[`INPUT_${k}`] = v;
    subjects.push({ key: name, args: [path.join(root, 'dist', name, 'index.js')], env: actionEnv });
  }
  const times = new Map(subjects.map((s) => [s.key, []]));
  const failures = new Map();
  for (let i = 0; i < RUNS; i++) {
    for (const s of subjects) {
      const r = await timeToFirstConnect(server, s.args, s.env, ws);
      if (Number.isNaN(r.ms)) failures.set(s.key, r.output.slice(0, 300));
      else times.get(s.key).push(r.ms);
    }
  }
  server.close();
  fs.rmSync(ws, { recursive: true, force: true });
  const out = [];
  const bare = median(times.get('bare node'));
  out.push({ name: 'start -> first AWS connect: bare node', value: +bare.toFixed(1), unit: 'ms (median)' });
  for (const s of subjects.slice(1)) {
    const ts = times.get(s.key);
    if (ts.length === 0) {
      out.push({ name: `start -> first AWS connect: ${s.key} (no request: ${failures.get(s.key)})`, value: NaN, unit: '', ok: false });
      continue;
    }
    const t = median(ts);
    out.push({ name: `start -> first AWS connect: ${s.key}`, value: +(t / bare).toFixed(2), unit: `x bare (${t.toFixed(1)} ms)`, target: '<= 4x', ok: t / bare <= 4 });
  }
  return out;
}

/** Rewrites the results table in docs/benchmark.md from this run's rows (one column per Node). */
function writeDocsTable(all, labels) {
  const doc = path.join(root, 'docs', 'benchmark.md');
  const text = fs.readFileSync(doc, 'utf8');
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  if (!text.includes(start) || !text.includes(end)) throw new Error(`docs/benchmark.md has no ${start} ... ${end} section`);
  const cell = (r) => (r ? `${r.ok === false ? '**missed** ' : ''}${Number.isNaN(r.value) ? '–' : r.value} ${r.unit}`.replace(/\|/g, '\\|') : '–');
  const out = [
    `Generated by \`npm run bench -- --write-docs\` on ${new Date().toISOString().slice(0, 10)} (${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end of the run); do not edit by hand.`,
    '',
    `| figure | ${labels.map((l) => `node ${l}`).join(' | ')} | target |`,
    `|---|${labels.map(() => '---').join('|')}|---|`,
  ];
  for (const file of DOC_FILES) {
    // A figure's name may carry this run's counts in parentheses: rows match across Nodes without them.
    const key = (r) => r.figure.replace(/\s*\([^)]*\)/g, '');
    const mine = all.filter((r) => r.file === file);
    for (const figure of [...new Set(mine.map(key))]) {
      const per = labels.map((l) => mine.find((r) => key(r) === figure && r.runtime === l));
      const target = per.find((r) => r && r.target)?.target ?? '';
      out.push(`| ${file}: ${figure.replace(/\|/g, '\\|')} | ${per.map(cell).join(' | ')} | ${target} |`);
    }
  }
  const before = text.slice(0, text.indexOf(start) + start.length);
  const after = text.slice(text.indexOf(end));
  fs.writeFileSync(doc, `${before}\n${out.join('\n')}\n${after}`);
  console.log(`docs/benchmark.md: results table rewritten (${out.length - 4} rows)`);
}

// Domain benchmarks, each file in its own process: clients and environment (AWS_ENDPOINT_URL of its
// loopback servers) must not leak from one benchmark into the next.
const runner = `require('ts-node').register({ transpileOnly: true, project: ${JSON.stringify(path.join(root, 'tsconfig.json'))} });
const mod = require(process.argv[1]);
Promise.resolve((mod.default || mod.bench)()).then((rows) => process.stdout.write('\\n@@BENCH@@' + JSON.stringify(rows) + '\\n'), (err) => { process.stdout.write('\\n@@BENCH@@' + JSON.stringify([{ name: 'FAILED ' + (err && err.message), value: NaN, unit: '', ok: false }]) + '\\n'); });`;
(async () => {
  if (!ONLY_FILES) rows.push(...(await firstRequestFigures()));
  const benchDir = path.join(root, 'bench');
  const all = !STARTUP_ONLY && fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).sort() : [];
  const files = ONLY_FILES ? all.filter((f) => ONLY_FILES.includes(f)) : all;
  const runtimes = [{ node: process.execPath, label: process.version.split('.')[0] }];
  if (NODE24 && !STARTUP_ONLY) runtimes.push({ node: NODE24, label: 'v24' });
  for (const f of files) {
    for (const rt of runtimes) {
      const r = spawnSync(rt.node, ['-e', runner, path.join(benchDir, f)], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
      const line = (r.stdout || '').split('\n').find((l) => l.startsWith('@@BENCH@@'));
      const result = line ? JSON.parse(line.slice('@@BENCH@@'.length)) : [{ name: `FAILED (exit ${r.status}) ${(r.stderr || '').slice(-300)}`, value: NaN, unit: '', ok: false }];
      const file = f.replace('.bench.ts', '');
      for (const row of result) rows.push({ ...row, name: `${file}: ${row.name}${runtimes.length > 1 ? ` [node ${rt.label}]` : ''}`, file, figure: row.name, runtime: rt.label });
    }
  }
  if (WRITE_DOCS) writeDocsTable(rows, runtimes.map((r) => r.label));
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
