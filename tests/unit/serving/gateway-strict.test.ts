/**
 * Issue 20 (Low, gateway): what the gateway (nginx, the image's configuration) reads and what it relays is
 * strict. Header lines with a bare CR, obs-fold, NUL or a control character in the name, Transfer-Encoding on
 * HTTP/1.0, both Content-Length and Transfer-Encoding, and an oversized head are refused; only the allowlisted
 * routes reach the engine (health: GET or HEAD, no body); an upstream answer with broken framing never reaches
 * the client with two framings. Where nginx differs from the Python gateway it replaced, the test says so.
 */
import * as net from 'net';
import type { AddressInfo } from 'net';
import { RunningGateway, startGateway } from '../../support/gateway';

const KEY = 'T'.repeat(24) + 'keyStrict123456789abcdef';
const auth = `Authorization: Bearer ${KEY}\r\n`;

interface Exchange {
  status: number;
  head: string;
  body: string;
  closed: boolean;
}

/**
 * Sends `text` and reads until the server closes or `seconds` pass; the answer's head and body are split at the
 * first blank line. `closed` says whether the server closed the connection (not our own time limit).
 */
function exchange(port: number, text: string, seconds = 3): Promise<Exchange> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let raw = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      const end = raw.indexOf('\r\n\r\n');
      const head = end >= 0 ? raw.slice(0, end) : raw;
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: end >= 0 ? raw.slice(end + 4) : '', closed });
    };
    const timer = setTimeout(finish, seconds * 1000);
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      finish();
    });
  });
}

/**
 * A raw engine (Node's HTTP server would not send broken framing): answers by path, counts what reached it.
 *   /v1/completions  Content-Length: 100 but 10 bytes, then closes
 *   /v1/embeddings   Content-Length and Transfer-Encoding: chunked together
 *   /v1/chat/completions?chunked   a correct chunked answer (length unknown up front, as a stream is)
 *   anything else    a plain 200 with a correct Content-Length
 */
async function startRawEngine() {
  const seen: string[] = [];
  const heads: string[] = [];
  const server = net.createServer((sock) => {
    let got = '';
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(got.slice(0, end))?.[1] ?? 0);
      if (got.length < end + 4 + length) return;
      const path = got.split(' ')[1];
      seen.push(path);
      heads.push(got.slice(0, end + 4));
      got = '';
      if (path === '/v1/completions') {
        sock.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789');
      } else if (path === '/v1/chat/completions?chunked') {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      } else if (path === '/v1/embeddings') {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      } else {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, heads, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('gateway strictness (issue 20, Low)', () => {
  jest.setTimeout(60_000);
  let engine: Awaited<ReturnType<typeof startRawEngine>>;
  let gw: RunningGateway;
  beforeAll(async () => {
    engine = await startRawEngine();
    gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${engine.port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_ACCESS_LOG: '0' });
  });
  afterAll(async () => {
    await gw.stop();
    await engine.close();
  });
  const models = (extra: string) => `GET /v1/models HTTP/1.1\r\nHost: x\r\n${auth}${extra}\r\n`;

  test('a well-formed request passes, and keeps its connection', async () => {
    const res = await exchange(gw.port, models('X-Fine: a\tb ~ \x80\r\n'), 1);
    expect(res.status).toBe(200);
    expect(res.closed).toBe(false);
  });

  test.each([
    ['a bare CR inside a value', 'X-A: a\rb\r\n'],
    ['a bare CR as a line end', 'X-A: a\rX-B: b\r\n'],
    ['obs-fold', 'X-A: a\r\n folded\r\n'],
    ['obs-fold with a tab', 'X-A: a\r\n\tfolded\r\n'],
    ['a NUL in a value', 'X-A: a\x00b\r\n'],
    ['a control character in a name', 'X\x01A: b\r\n'],
    ['a space before the colon', 'X-A : b\r\n'],
    ['Content-Length with Transfer-Encoding', 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'],
  ])('%s is refused with 400, the connection closed, nothing proxied', async (_what, line) => {
    const before = engine.seen.length;
    const res = await exchange(gw.port, models(line));
    expect(res.status).toBe(400);
    expect(res.head.toLowerCase()).toContain('connection: close');
    expect(res.closed).toBe(true);
    expect(engine.seen.length).toBe(before);
  });

  // nginx, unlike the Python gateway, takes these: it reads a bare LF as a line end, and keeps a control
  // character (other than NUL, CR, LF) inside a value. It writes every field to the engine again on a line of
  // its own ended by CRLF, so neither can change where a field or the request ends on the way to the engine.
  test.each([
    ['a control character in a value', 'X-A: a\x01b\r\n', 'x-a: a\x01b\r\n'],
    ['DEL in a value', 'X-A: a\x7fb\r\n', 'x-a: a\x7fb\r\n'],
    ['a bare LF as a line end', 'X-A: a\nX-B: b\r\n', 'x-a: a\r\nx-b: b\r\n'],
  ])('%s reaches the engine re-framed: each field on its own CRLF line', async (_what, line, relayed) => {
    const before = engine.seen.length;
    const res = await exchange(gw.port, models(line), 1);
    expect(res.status).toBe(200);
    expect(engine.seen.length).toBe(before + 1);
    const head = engine.heads.at(-1)!;
    expect(head.toLowerCase()).toContain(relayed);
    expect(head.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  test('Transfer-Encoding on HTTP/1.0 is refused with 400 and the connection closed', async () => {
    const before = engine.seen.length;
    const res = await exchange(gw.port, `POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`);
    expect(res.status).toBe(400);
    expect(res.closed).toBe(true);
    expect(engine.seen.length).toBe(before);
  });

  test('a request head over 32 KiB gets 431; one just under it passes', async () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-Pad-${i}: ${'p'.repeat(1000)}\r\n`).join('');
    const big = await exchange(gw.port, models(fields(34)));
    expect(big.status).toBe(431);
    expect(big.closed).toBe(true);
    const fits = await exchange(gw.port, models(fields(30)), 1);
    expect(fits.status).toBe(200);
  });

  test.each([
    ['GET /admin', 404, 'GET /admin HTTP/1.1'],
    ['GET /v1/models/../admin', 404, 'GET /v1/models/../admin HTTP/1.1'],
    ['an absolute-form target', 400, 'GET http://x/v1/models HTTP/1.1'],
    ['GET on an inference route', 405, 'GET /v1/chat/completions HTTP/1.1'],
    ['DELETE /v1/models', 405, 'DELETE /v1/models HTTP/1.1'],
  ])('%s (with a key) is refused with %d, nothing proxied', async (_what, status, line) => {
    const before = engine.seen.length;
    const res = await exchange(gw.port, `${line}\r\nHost: x\r\n${auth}\r\n`);
    expect(res.status).toBe(status);
    expect(res.closed).toBe(true);
    expect(engine.seen.length).toBe(before);
  });

  test('an unknown route without a key gets 401, like every other keyed route', async () => {
    expect((await exchange(gw.port, 'GET /admin HTTP/1.1\r\nHost: x\r\n\r\n')).status).toBe(401);
  });

  test('the allowlisted routes reach the engine: /invocations, the OpenAI routes, /ping', async () => {
    const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nConnection: close\r\n\r\n{}`;
    for (const path of ['/invocations', '/v1/chat/completions']) expect((await exchange(gw.port, post(path))).status).toBe(200);
    expect((await exchange(gw.port, `GET /v1/models?x=1 HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`)).status).toBe(200);
    expect((await exchange(gw.port, 'GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status).toBe(200);
    expect((await exchange(gw.port, 'HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status).toBe(200);
    expect(engine.seen.slice(-5)).toEqual(['/v1/chat/completions', '/v1/chat/completions', '/v1/models?x=1', '/health', '/health']);
  });

  test.each([
    ['POST /ping', 405, 'POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'],
    ['PUT /health', 405, 'PUT /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'],
    ['GET /ping with a body', 400, 'GET /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'],
    ['GET /ping with a chunked body', 400, 'GET /ping HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ])('the health route: %s is refused with %d from its head', async (_what, status, text) => {
    const before = engine.seen.length;
    const res = await exchange(gw.port, text);
    expect(res.status).toBe(status);
    expect(res.closed).toBe(true);
    expect(engine.seen.length).toBe(before);
  });

  test('an upstream body shorter than its Content-Length closes the client connection', async () => {
    const res = await exchange(gw.port, `POST /v1/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\n\r\n{}`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('0123456789');
    // Left open, the client would wait for 90 more bytes, or take the next answer's bytes for them.
    expect(res.closed).toBe(true);
  });

  test('an upstream answer with both Content-Length and Transfer-Encoding never reaches the client with both', async () => {
    const res = await exchange(gw.port, `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nConnection: close\r\n\r\n{}`);
    const head = res.head.toLowerCase();
    // nginx 1.23 and later (the image's) refuse such an answer: 502, nothing of it relayed. Older ones (a
    // distribution's, in tests) relay it by its chunks under their own framing, without its Content-Length.
    if (res.status === 502) {
      expect(res.body).toBe('{"error":"upstream unavailable"}');
    } else {
      expect(res.status).toBe(200);
      expect(head).not.toContain('content-length');
      expect(head).toContain('transfer-encoding: chunked');
      expect(res.body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')).toBe('hello');
    }
    expect(res.closed).toBe(true);
  });

  test('an HTTP/1.0 client gets a stream without chunked framing (1.0 has none), ended by the close', async () => {
    const res = await exchange(gw.port, `POST /v1/chat/completions?chunked HTTP/1.0\r\nHost: x\r\n${auth}Content-Length: 2\r\n\r\n{}`);
    expect(res.status).toBe(200);
    expect(res.head.toLowerCase()).not.toContain('transfer-encoding');
    expect(res.body).toBe('hello');
    expect(res.closed).toBe(true);
  });
});
