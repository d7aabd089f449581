/**
 * The gateway's deadlines (moved out of jest: how soon is a figure on a shared machine, not a test). Each is
 * measured against a reference in the same run that keeps the same deadline: Node's own HTTP server with
 * the same header deadline and watchdog period, and Node's HTTP client with the same health timeout. The
 * tests (tests/unit/serving/gateway-attacks.test.ts) check that the gateway closes and answers 502.
 *
 * Then slot exhaustion (issue 20, Medium 4): an authenticated client's success rate and latency while 320
 * hostile connections of each kind (from 32 addresses) hold at the gateway's default 256 slots, against the
 * same client with no attack in the same run. tests/unit/serving/gateway-slots.test.ts asserts the 100 %.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { BenchRow } from './types';
import { HostileKind, holdHostile, legitRequests, startGateway, trickleHeaders, waitFor } from '../tests/support/gateway';

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
  const gw = await startGateway({
    MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${hungPort}`,
    MODEL_DEPLOY_API_KEY_A: 'K'.repeat(48),
    MODEL_DEPLOY_HEADER_TIMEOUT_SECONDS: String(DEADLINE_S),
    MODEL_DEPLOY_HEALTH_TIMEOUT_SECONDS: String(DEADLINE_S),
    MODEL_DEPLOY_ACCESS_LOG: '0',
  });
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
