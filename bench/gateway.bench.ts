/**
 * The gateway (nginx with the image's configuration, started by serve.sh as in the image; one worker here) and
 * its deadlines (moved out of jest: how soon is a figure on a shared machine, not a test). Each is measured
 * against a reference in the same run that keeps the same deadline: Node's own HTTP server with the same
 * header deadline and watchdog period, and Node's HTTP client with the same health timeout. The tests
 * (tests/unit/serving/gateway-attacks.test.ts) check that the gateway closes and answers 502.
 *
 * Then slot exhaustion (issue 20, Medium 4): an authenticated client's success rate and latency while 320
 * hostile connections of each kind (from 32 addresses) hold at the gateway with its image defaults, against the
 * same client with no attack in the same run. tests/unit/serving/gateway-slots.test.ts asserts the 100 %.
 *
 * Then the serving path against the direct engine and a plain nginx (servingPath, below).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './types';
import { reference } from './reference-client';
import { HostileKind, holdHostile, legitRequests, nginxBinary, startGateway, trickleHeaders, waitFor } from '../tests/support/gateway';

const DEADLINE_S = 1;
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const LEGIT_REQUESTS = 50;
const listen = async (server: http.Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
};
const close = (server: http.Server) =>
  new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });

/** ms until a GET of `url` ends: the gateway's 502, or the reference client's own timeout. */
function getMs(url: string, timeoutMs?: number): Promise<{ ms: number; status: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = http.get(url, timeoutMs ? { timeout: timeoutMs } : {}, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: performance.now() - started, status: res.statusCode ?? 0 }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ ms: performance.now() - started, status: 0 }));
  });
}

export default async function (): Promise<BenchRow[]> {
  // An engine whose health route never answers.
  const hung = http.createServer((req) => req.resume());
  const hungPort = await listen(hung);
  // The reference server: Node's parser with the gateway's header deadline and its twice-a-second watchdog.
  const reference = http.createServer({ headersTimeout: DEADLINE_S * 1000, requestTimeout: 10_000, connectionsCheckingInterval: 500 }, (_req, res) => res.end());
  const referencePort = await listen(reference);
  const gw = await startGateway(
    { MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${hungPort}`, MODEL_DEPLOY_API_KEY_A: 'K'.repeat(48), MODEL_DEPLOY_ACCESS_LOG: '0' },
    { headerTimeoutSeconds: DEADLINE_S, healthTimeoutSeconds: DEADLINE_S },
  );
  try {
    const header = { gateway: [] as number[], reference: [] as number[] };
    const health = { gateway: [] as number[], reference: [] as number[] };
    let failures = 0;
    // Interleaved, so noise hits the gateway and its reference alike.
    for (let i = 0; i < RUNS; i++) {
      const g = await trickleHeaders(gw.port);
      const r = await trickleHeaders(referencePort);
      if (!g.closedByServer || !r.closedByServer) failures++;
      header.gateway.push(g.ms);
      header.reference.push(r.ms);
      const h = await getMs(`${gw.url}/ping`);
      if (h.status !== 502) failures++;
      health.gateway.push(h.ms);
      health.reference.push((await getMs(`http://127.0.0.1:${hungPort}/health`, DEADLINE_S * 1000)).ms);
    }
    const row = (what: string, xs: { gateway: number[]; reference: number[] }, reference: string): BenchRow => {
      const g = median(xs.gateway);
      const r = median(xs.reference);
      return {
        name: `${what} (deadline ${DEADLINE_S} s), gateway / ${reference}`,
        value: Number((g / r).toFixed(2)),
        unit: `x (${g.toFixed(0)} ms vs ${r.toFixed(0)} ms, median of ${RUNS})`,
        target: '<= 2x',
        ok: failures === 0 && g / r <= 2,
      };
    };
    return [
      row('slow headers: connection closed after', header, "Node's server, same deadline and watchdog"),
      row('hung engine: /ping answered 502 after', health, "Node's client, same timeout"),
      { name: 'runs where the gateway did not close or answer 502', value: failures, unit: `of ${RUNS}`, target: '0', ok: failures === 0 },
      ...(await slotExhaustion()),
      ...(await servingPath()),
    ];
  } finally {
    await gw.stop();
    await close(hung);
    await close(reference);
  }
}

/** An authenticated client under each slot-exhaustion attack, against the same client unattacked. */
async function slotExhaustion(): Promise<BenchRow[]> {
  const engine = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' }).end('{}'));
  });
  const enginePort = await listen(engine);
  const key = 'B'.repeat(24) + 'keyBench0123456789abcdef';
  const rows: BenchRow[] = [];
  try {
    const measure = async (kind?: HostileKind) => {
      const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${enginePort}`, MODEL_DEPLOY_API_KEY_A: key, MODEL_DEPLOY_ACCESS_LOG: '0' });
      const pool = kind ? holdHostile(gw.port, kind, { count: 320, peers: 32 }) : undefined;
      try {
        if (pool) await waitFor(() => pool.peakOpen() >= 300 || pool.opened() >= 640);
        const results = await legitRequests(gw.port, key, { requests: LEGIT_REQUESTS });
        return { results, peak: pool?.peakOpen() ?? 0, opened: pool?.opened() ?? 0 };
      } finally {
        pool?.stop();
        await gw.stop();
      }
    };
    const baseline = await measure();
    const baseP50 = median(baseline.results.map((r) => r.ms));
    rows.push({ name: 'slots: authenticated request, no attack, p50 / p95', value: Number(baseP50.toFixed(1)), unit: `ms (p95 ${quantile(baseline.results.map((r) => r.ms), 0.95).toFixed(1)} ms, ${LEGIT_REQUESTS} requests, a new connection each)` });
    for (const kind of ['idle', 'slow-ping-body', 'keep-alive', 'slow-headers'] as HostileKind[]) {
      const m = await measure(kind);
      const ok = m.results.filter((r) => r.status === 200);
      const ms = m.results.map((r) => r.ms);
      rows.push({
        name: `slots: under ${kind} attack (320 connections, 32 addresses; peak ${m.peak} open, ${m.opened} opened), authenticated requests served`,
        value: Number(((100 * ok.length) / m.results.length).toFixed(1)),
        unit: `% (p50 ${median(ms).toFixed(1)} ms, p95 ${quantile(ms, 0.95).toFixed(1)} ms, max ${Math.max(...ms).toFixed(1)} ms)`,
        target: '100 %',
        ok: ok.length === m.results.length,
      });
    }
  } finally {
    await close(engine);
  }
  return rows;
}

/**
 * The serving path (issue 26.1): the same closed loop of streams (engine: TTFT 50 ms, a token every 10 ms)
 * straight to the engine, through a plain nginx (the reference proxy: streaming reverse proxy with a key
 * check, one worker, keep-alive to the engine) and through the gateway (our configuration: one worker here, two
 * in the image), interleaved round by round so noise hits all three alike. Added latency = subject − direct in
 * the same round; CPU per token from /proc of the proxy's processes (master and workers) over the tokens the
 * client received.
 */
const KEY_SERVING = 'N'.repeat(24) + 'keyServing0123456789abcd';
const STREAM_TOKENS = 64;
const ROUNDS = 3;

function cpuMsOf(pid: number): number {
  // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 a second on Linux).
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function startEngine(tokens: number): Promise<{ port: number; stop: () => void }> {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'tests', 'unit', 'benchmark', 'fake-openai-server.js')], {
    env: { PATH: process.env.PATH ?? '', FAKE_OPENAI: JSON.stringify({ ttftMs: 50, itlMs: 10, tokens, record: false }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`engine exited (${code})`)));
    child.stdout!.on('data', (d: Buffer) => {
      const m = /URL (\S+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
  });
  return { port: Number(new URL(url).port), stop: () => child.kill('SIGTERM') };
}

/** nginx as a plain streaming reverse proxy with a key check; undefined when nginx is not installed. */
async function startNginx(enginePort: number): Promise<{ url: string; pid: number; stop: () => void } | undefined> {
  let nginx: string;
  try {
    nginx = nginxBinary();
  } catch {
    return undefined;
  }
  if (spawnSync(nginx, ['-v']).error) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-nginx-'));
  const probe = http.createServer();
  const port = await listen(probe);
  await close(probe);
  const conf = `worker_processes 1; daemon off; master_process off; error_log stderr error; pid ${dir}/pid;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream engine { server 127.0.0.1:${enginePort}; keepalive 256; }
  map_hash_bucket_size 128;
  map $http_authorization $key_ok { default 0; "Bearer ${KEY_SERVING}" 1; }
  server {
    listen 127.0.0.1:${port} backlog=1024;
    location /v1/chat/completions {
      if ($key_ok = 0) { return 401; }
      proxy_pass http://engine; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off;
    }
  }
}`;
  fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const child = spawn(nginx, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () => {
      child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      child.kill('SIGTERM');
    },
  };
}

interface Subject {
  name: string;
  url: string;
  /** The proxy's processes now (none for the direct engine). */
  pids: () => number[];
}

export async function servingPath(): Promise<BenchRow[]> {
  const engine = await startEngine(STREAM_TOKENS);
  const nginx = await startNginx(engine.port);
  const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY_SERVING, MODEL_DEPLOY_ACCESS_LOG: '0' });
  const rows: BenchRow[] = [];
  try {
    const subjects: Subject[] = [
      { name: 'direct', url: `http://127.0.0.1:${engine.port}`, pids: () => [] },
      ...(nginx ? [{ name: 'nginx', url: nginx.url, pids: () => [nginx.pid] }] : []),
      { name: 'gateway', url: gw.url, pids: () => [gw.nginxPid(), ...gw.workerPids()] },
    ];
    const seen = new Map<string, { ttft: number[]; p99ttft: number[]; p99itl: number[]; cpuUs: number[]; failed: number }>(subjects.map((s) => [s.name, { ttft: [], p99ttft: [], p99itl: [], cpuUs: [], failed: 0 }]));
    for (const s of subjects) await reference(s.url, KEY_SERVING, 4, 128, 128); // connections open, code warm
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of subjects) {
        const pids = s.pids();
        const cpuNow = () => pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
        const before = cpuNow();
        const f = await reference(s.url, KEY_SERVING, STREAM_TOKENS, 128, 256);
        const cpu = cpuNow() - before;
        const x = seen.get(s.name)!;
        x.ttft.push(f.median_ttft_ms);
        x.p99ttft.push(f.p99_ttft_ms);
        x.p99itl.push(f.p99_itl_ms);
        x.cpuUs.push((cpu * 1000) / f.tokens);
        x.failed += f.failed;
      }
    }
    const direct = seen.get('direct')!;
    // Per round, subject − direct; the median over rounds.
    const added = (xs: number[], base: number[]) => median(xs.map((v, i) => v - base[i]));
    for (const name of ['nginx', 'gateway']) {
      const x = seen.get(name);
      if (!x) continue;
      const ttft = added(x.ttft, direct.ttft);
      const itl = added(x.p99itl, direct.p99itl);
      const isGateway = name === 'gateway';
      rows.push({ name: `serving 128 streams: ${name} added median TTFT (${name} − direct, same round)`, value: Number(ttft.toFixed(1)), unit: `ms (direct ${median(direct.ttft).toFixed(1)} ms; median of ${ROUNDS} rounds)`, ...(isGateway ? { target: '<= 5 ms', ok: ttft <= 5 } : {}) });
      rows.push({ name: `serving 128 streams: ${name} added p99 ITL`, value: Number(itl.toFixed(1)), unit: `ms (direct ${median(direct.p99itl).toFixed(1)} ms)`, ...(isGateway ? { target: '<= 2 ms', ok: itl <= 2 } : {}) });
      rows.push({ name: `serving 128 streams: ${name} CPU per streamed token`, value: Number(median(x.cpuUs).toFixed(1)), unit: 'µs/token (its own processes)' });
      rows.push({ name: `serving 128 streams: ${name} failed requests`, value: x.failed, unit: `of ${ROUNDS * 256}`, target: '0', ok: x.failed === 0 });
    }
    const n = seen.get('nginx');
    const g = seen.get('gateway')!;
    if (n) {
      const ratio = median(g.cpuUs) / median(n.cpuUs);
      rows.push({ name: 'serving 128 streams: gateway CPU per token / nginx CPU per token', value: Number(ratio.toFixed(2)), unit: 'x', target: '<= 1.5x', ok: ratio <= 1.5 });
      const ttftRatio = added(g.ttft, direct.ttft) - added(n.ttft, direct.ttft);
      rows.push({ name: 'serving 128 streams: gateway added TTFT − nginx added TTFT', value: Number(ttftRatio.toFixed(1)), unit: 'ms' });
    } else {
      rows.push({ name: 'serving: nginx is not installed (apt-get install -y nginx): no reference proxy in this run', value: NaN, unit: '', ok: false });
    }
    // Many streams at once from one address: below 1024 none may be refused (the Python gateway's old default
    // answered 503 to half of 512); at 1024 the per-address cap (1024 requests in progress) is just reached.
    for (const streams of [512, 1024]) {
      const f = await reference(gw.url, KEY_SERVING, 8, streams, streams);
      rows.push({ name: `serving ${streams} streams at once through the gateway (image defaults): refused or failed`, value: f.failed, unit: `of ${streams} (median TTFT ${f.median_ttft_ms.toFixed(0)} ms, p99 ${f.p99_ttft_ms.toFixed(0)} ms)`, target: '0', ok: f.failed === 0 });
    }
  } finally {
    await gw.stop();
    nginx?.stop();
    engine.stop();
  }
  return rows;
}
