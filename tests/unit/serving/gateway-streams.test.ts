/**
 * The serving path (issue 26.1) on nginx: connections to the engine are kept alive and reused (a new TCP
 * connection per request cost every first token a connect), a pooled connection the engine closed meanwhile is
 * never used, the defaults hold 1000 streams in progress from one address without a 503, and a reload (new keys)
 * lets every stream in flight finish.
 */
import * as http from 'http';
import type { AddressInfo, Socket } from 'net';
import { startGateway } from '../../support/gateway';

const KEY = 'S'.repeat(24) + 'keyStreams0123456789abcd';

/** An engine that counts the TCP connections it accepted; /v1/completions streams `events` SSE events. */
async function startEngine(options: { holdMs?: number } = {}) {
  let connections = 0;
  let open = 0;
  let peak = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      open++;
      peak = Math.max(peak, open);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"delta":{"content":"a"}}]}\n\n');
      setTimeout(() => {
        open--;
        res.end('data: [DONE]\n\n');
      }, options.holdMs ?? 0);
    });
  });
  server.on('connection', (_s: Socket) => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', 4096, r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    peak: () => peak,
    /** Closes the kept-alive connections no request is using (as an engine's keep-alive timeout does). */
    dropIdle: () => server.closeIdleConnections(),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function post(port: number, agent?: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/completions', method: 'POST', agent: agent ?? false, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('gateway streams', () => {
  jest.setTimeout(120_000);

  test('connections to the engine are reused from request to request', async () => {
    const engine = await startEngine();
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0' });
    try {
      const requests = 10;
      for (let i = 0; i < requests; i++) {
        const r = await post(gw.port);
        expect(r).toEqual({ status: 200, body: expect.stringContaining('data: [DONE]') as unknown as string });
      }
      // One worker, one request at a time: the one pooled connection serves them all.
      expect(engine.connections()).toBe(1);
    } finally {
      await gw.stop();
      await engine.close();
    }
  });

  test('a pooled connection the engine closed is not used: the next request gets its answer', async () => {
    const engine = await startEngine();
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0' });
    try {
      expect((await post(gw.port)).status).toBe(200);
      // The engine closes the idle connection the gateway pooled; its FIN reaches the gateway's socket.
      engine.dropIdle();
      await new Promise((r) => setTimeout(r, 100));
      expect((await post(gw.port)).status).toBe(200);
      expect(engine.connections()).toBe(2);
      expect(gw.stderr()).not.toContain('upstream unavailable');
    } finally {
      await gw.stop();
      await engine.close();
    }
  });

  test('a reload (new keys) drops no stream in flight: each one finishes on the old worker', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const timer = setInterval(() => {
          res.write(`data: {"n":${++n}}\n\n`);
          if (n === 20) {
            clearInterval(timer);
            res.end('data: [DONE]\n\n');
          }
        }, 50);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${(server.address() as AddressInfo).port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0' });
    try {
      const oldWorkers = gw.workerPids();
      const streams = Array.from({ length: 8 }, () => post(gw.port));
      // Every stream is under way (about 1 s each) when the reload comes.
      await new Promise((r) => setTimeout(r, 300));
      gw.reload();
      const results = await Promise.all(streams);
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.body).toContain('data: {"n":20}\n\ndata: [DONE]');
      }
      // The reload did happen: the workers that carried the streams were replaced.
      expect(gw.workerPids().some((pid) => !oldWorkers.includes(pid))).toBe(true);
    } finally {
      await gw.stop();
      server.closeAllConnections();
      server.close();
    }
  });

  test('1000 streams in progress from one address, with the image defaults: no 503', async () => {
    const engine = await startEngine({ holdMs: 1500 });
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
    try {
      const results = await Promise.all(Array.from({ length: 1000 }, () => post(gw.port, agent).catch((e: Error) => ({ status: 0, body: e.message }))));
      const statuses: Record<number, number> = {};
      for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      expect(statuses).toEqual({ 200: 1000 });
      // They were in progress together, not one after another.
      expect(engine.peak()).toBeGreaterThan(256);
    } finally {
      agent.destroy();
      await gw.stop();
      await engine.close();
    }
  });
});
