/**
 * Issue 20 (Medium 4): slot exhaustion. Each attack holds 320 hostile connections against a gateway with its
 * default 256 slots, replacing every connection the gateway closes, while an authenticated client makes one
 * request after the other, each on a new connection: every one of them must be served. The attacks come from
 * one peer address (the per-peer cap answers) and from 32 (eviction and deadlines answer). Latency under each
 * attack is a figure, not an assertion: `npm run bench` (bench/gateway.bench.ts) reports it.
 */
import * as http from 'http';
import * as net from 'net';
import type { AddressInfo } from 'net';
import { HostileKind, holdHostile, legitRequests, RunningGateway, startGateway, waitFor } from '../../support/gateway';

const KEY = 'S'.repeat(24) + 'keySlots0123456789abcdef';

async function startEngine() {
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      // /v1/completions never answers: a request in progress, which holds its slot for good reason.
      if (req.url === '/v1/completions') return void hanging.push(res);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('gateway slots under attack (issue 20, Medium 4)', () => {
  jest.setTimeout(120_000);
  let engine: Awaited<ReturnType<typeof startEngine>>;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(() => engine.close());
  const gateway = (env: Record<string, string> = {}) =>
    startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0', MODEL_DEPLOY_MAX_CONNECTIONS: '256', ...env });

  const attacks: [HostileKind, number][] = [];
  for (const kind of ['idle', 'slow-ping-body', 'keep-alive', 'slow-headers'] as HostileKind[]) for (const peers of [1, 32]) attacks.push([kind, peers]);

  test.each(attacks)('%s connections (320, from %d peer address(es)): every authenticated request is served', async (kind, peers) => {
    const gw = await gateway();
    const pool = holdHostile(gw.port, kind, { count: 320, peers });
    try {
      // The attack is in place: 300 or more connected at once, or, where the gateway closes them faster than
      // that (a POST /ping is refused from its head; one peer past its cap loses its oldest), the pool has
      // replaced all 320 at least once; and (keep-alive) a slots' worth of them answered and left idle.
      const inPlace = () => (pool.peakOpen() >= 300 || pool.opened() >= 640) && (kind !== 'keep-alive' || (pool.statuses()[200] ?? 0) >= 256);
      await waitFor(inPlace);
      expect(inPlace()).toBe(true);
      const results = await legitRequests(gw.port, KEY, { requests: 20 });
      expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
      // The attack kept going all along (the pool replaces every connection the gateway closes).
      expect(pool.opened()).toBeGreaterThanOrEqual(320);
    } finally {
      pool.stop();
      await gw.stop();
    }
  });
});

describe('gateway slots: eviction and the per-peer cap', () => {
  jest.setTimeout(60_000);
  let engine: Awaited<ReturnType<typeof startEngine>>;
  let gw: RunningGateway | undefined;
  beforeAll(async () => {
    engine = await startEngine();
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });
  afterAll(() => engine.close());
  const gateway = async (env: Record<string, string>) =>
    (gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0', ...env }));

  /** A raw connection from `peer` that sends `text` and records what comes back and whether the server closed it. */
  function connection(port: number, peer: string, text = '') {
    const c = { sock: net.connect({ port, host: '127.0.0.1', localAddress: peer }), got: '', closed: false };
    c.sock.on('error', () => undefined);
    c.sock.on('data', (d: Buffer) => (c.got += d.toString('latin1')));
    c.sock.on('close', () => (c.closed = true));
    c.sock.on('connect', () => text && c.sock.write(text));
    return c;
  }
  const hang = `POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: 2\r\n\r\n{}`;
  const models = `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n\r\n`;
  const status = (c: { got: string }) => Number(/^HTTP\/1\.1 (\d{3})/.exec(c.got)?.[1] ?? 0);

  test('when every slot is taken, the oldest idle connection makes room for a new client', async () => {
    const g = await gateway({ MODEL_DEPLOY_MAX_CONNECTIONS: '4' });
    const idle: ReturnType<typeof connection>[] = [];
    for (let i = 0; i < 4; i++) {
      idle.push(connection(g.port, `127.0.0.${10 + i}`));
      // One after the other, so "oldest" is the first.
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      const client = connection(g.port, '127.0.0.1', models);
      await waitFor(() => status(client) !== 0);
      expect(status(client)).toBe(200);
      await waitFor(() => idle[0].closed);
      expect(idle[0].closed).toBe(true);
      expect(idle.slice(1).map((c) => c.closed)).toEqual([false, false, false]);
      client.sock.destroy();
    } finally {
      idle.forEach((c) => c.sock.destroy());
    }
  });

  test('requests in progress are never evicted: with every slot busy a new client gets 503', async () => {
    const g = await gateway({ MODEL_DEPLOY_MAX_CONNECTIONS: '3' });
    const busy = [0, 1, 2].map((i) => connection(g.port, `127.0.0.${20 + i}`, hang));
    try {
      // The engine has all three (it never answers /v1/completions).
      await new Promise((r) => setTimeout(r, 500));
      const late = connection(g.port, '127.0.0.1', models);
      await waitFor(() => status(late) !== 0);
      expect(status(late)).toBe(503);
      expect(busy.map((c) => c.closed)).toEqual([false, false, false]);
      late.sock.destroy();
    } finally {
      busy.forEach((c) => c.sock.destroy());
    }
  });

  test('one peer holds at most its cap; past it, 503 for that peer while another peer is served', async () => {
    const g = await gateway({ MODEL_DEPLOY_MAX_CONNECTIONS: '16', MODEL_DEPLOY_MAX_CONNECTIONS_PER_PEER: '3' });
    const busy = [0, 1, 2].map(() => connection(g.port, '127.0.0.30', hang));
    try {
      await new Promise((r) => setTimeout(r, 500));
      const fourth = connection(g.port, '127.0.0.30', models);
      const other = connection(g.port, '127.0.0.31', models);
      await waitFor(() => status(fourth) !== 0 && status(other) !== 0);
      expect(status(fourth)).toBe(503);
      expect(status(other)).toBe(200);
      fourth.sock.destroy();
      other.sock.destroy();
    } finally {
      busy.forEach((c) => c.sock.destroy());
    }
  });

  test("a peer at its cap makes room from its own idle connections, not another peer's", async () => {
    const g = await gateway({ MODEL_DEPLOY_MAX_CONNECTIONS: '16', MODEL_DEPLOY_MAX_CONNECTIONS_PER_PEER: '2' });
    const otherIdle = connection(g.port, '127.0.0.41');
    await new Promise((r) => setTimeout(r, 100));
    const ownIdle = [connection(g.port, '127.0.0.40'), connection(g.port, '127.0.0.40')];
    try {
      await new Promise((r) => setTimeout(r, 300));
      const third = connection(g.port, '127.0.0.40', models);
      await waitFor(() => status(third) !== 0);
      expect(status(third)).toBe(200);
      await waitFor(() => ownIdle.some((c) => c.closed));
      expect(ownIdle.filter((c) => c.closed)).toHaveLength(1);
      expect(otherIdle.closed).toBe(false);
      third.sock.destroy();
    } finally {
      [otherIdle, ...ownIdle].forEach((c) => c.sock.destroy());
    }
  });

  test('a connection that never sends its head is closed by the header deadline, counted from accept', async () => {
    const g = await gateway({ MODEL_DEPLOY_HEADER_TIMEOUT_SECONDS: '1' });
    const silent = connection(g.port, '127.0.0.1');
    try {
      // Well before the 75 s keep-alive idle timeout that used to apply before the first byte.
      await waitFor(() => silent.closed, 10_000);
      expect(silent.closed).toBe(true);
      expect(silent.got).toBe('');
    } finally {
      silent.sock.destroy();
    }
  });

  test('an authenticated body that trickles in is cut off by the total body deadline (grace + minimum rate)', async () => {
    const g = await gateway({ MODEL_DEPLOY_BODY_GRACE_SECONDS: '1', MODEL_DEPLOY_BODY_MIN_BYTES_PER_SECOND: '1024' });
    const slow = connection(g.port, '127.0.0.1', `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Length: 100000\r\n\r\n`);
    const drip = setInterval(() => slow.sock.writable && slow.sock.write('a'), 75);
    try {
      // The per-read timeout (60 s) never fires at 13 bytes/s; the total deadline does.
      await waitFor(() => slow.closed, 15_000);
      expect(slow.closed).toBe(true);
    } finally {
      clearInterval(drip);
      slow.sock.destroy();
    }
  });
});
