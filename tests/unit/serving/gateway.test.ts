import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { GATEWAY, RunningGateway, startGateway } from '../../support/gateway';

const KEY_A = 'A'.repeat(24) + 'keyAlpha0123456789abcdef';
const KEY_B = 'B'.repeat(24) + 'keyBravo0123456789abcdef';
const KEY_C = 'C'.repeat(24) + 'keyCharlie123456789abcde';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A tiny engine: records what reaches it; /v1/completions sends SSE events one by one when told to. */
async function startUpstream() {
  const seen: Seen[] = [];
  let release: (() => void)[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/v1/completions') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        let n = 0;
        const next = () => {
          n++;
          if (n > 3) {
            res.end('data: [DONE]\n\n');
            return;
          }
          res.write(`data: {"n":${n}}\n\n`);
          release.push(next);
        };
        next();
        return;
      }
      const text = JSON.stringify({ ok: true, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    /** Lets the stream send its next event. */
    step: () => {
      const fns = release;
      release = [];
      fns.forEach((f) => f());
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function request(url: string, options: http.RequestOptions & { body?: string } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('serving gateway', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let gw: RunningGateway;
  beforeAll(async () => {
    upstream = await startUpstream();
    gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${upstream.port}`, MODEL_DEPLOY_API_KEY_A: KEY_A, MODEL_DEPLOY_API_KEY_B: KEY_B });
  });
  afterAll(async () => {
    await gw.stop();
    await upstream.close();
  });

  test('/ping needs no key and maps to the health path', async () => {
    const res = await request(`${gw.url}/ping`);
    expect(res.status).toBe(200);
    expect(upstream.seen.at(-1)!.url).toBe('/health');
  });

  test('both keys are accepted, as Bearer or x-api-key; the key never reaches the engine', async () => {
    const a = await request(`${gw.url}/invocations`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}`, 'content-type': 'application/json' }, body: '{"q":1}' });
    expect(a.status).toBe(200);
    const seen = upstream.seen.at(-1)!;
    expect(seen).toMatchObject({ method: 'POST', url: '/v1/chat/completions', body: '{"q":1}' });
    expect(JSON.stringify(seen.headers)).not.toContain(KEY_A);
    const b = await request(`${gw.url}/v1/models`, { headers: { 'x-api-key': KEY_B } });
    expect(b.status).toBe(200);
    expect(upstream.seen.at(-1)!.url).toBe('/v1/models');
  });

  test('a wrong, a truncated or a missing key gets 401 without detail, and nothing reaches the engine', async () => {
    const before = upstream.seen.length;
    for (const headers of [{ authorization: `Bearer ${KEY_C}` }, { authorization: `Bearer ${KEY_A.slice(0, -1)}` }, { 'x-api-key': `${KEY_B}x` }, {}]) {
      const res = await request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: '{}' });
      expect(res.status).toBe(401);
      expect(res.body).toBe('{"error":"unauthorized"}');
    }
    expect(upstream.seen.length).toBe(before);
  });

  test('keys are compared with hmac.compare_digest against every key, with no early exit', () => {
    const script = [
      'import sys, hmac',
      `sys.path.insert(0, ${JSON.stringify(path.dirname(GATEWAY))})`,
      'import gateway',
      'calls = []',
      'real = hmac.compare_digest',
      'gateway.hmac.compare_digest = lambda a, b: calls.append(1) or real(a, b)',
      `keys = [${JSON.stringify(KEY_A)}, ${JSON.stringify(KEY_B)}]`,
      `print(gateway.key_matches(${JSON.stringify(KEY_C)}, keys), len(calls))`,
      'calls.clear()',
      `print(gateway.key_matches(${JSON.stringify(KEY_A)}, keys), len(calls))`,
    ].join('\n');
    const out = spawnSync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim().split('\n')).toEqual(['False 2', 'True 2']);
  });

  test('streamed responses (SSE) pass through event by event', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${gw.url}/v1/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY_A}` } }, (res) => {
        expect(res.headers['transfer-encoding']).toBe('chunked');
        res.on('data', (c: Buffer) => {
          events.push(c.toString());
          // The engine sends the next event only after this one reached the client: no buffering in between.
          upstream.step();
        });
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    expect(events.join('')).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n');
    expect(events.length).toBeGreaterThanOrEqual(4);
  });

  test('an engine that is down gives 502', async () => {
    const lone = await startGateway({ MODEL_DEPLOY_UPSTREAM: '127.0.0.1:9' });
    try {
      const res = await request(`${lone.url}/v1/models`);
      expect(res.status).toBe(502);
      expect(res.body).toBe('{"error":"upstream unavailable"}');
    } finally {
      await lone.stop();
    }
  });
});

describe('serving gateway with a key file', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let dir: string;
  beforeAll(async () => {
    upstream = await startUpstream();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-keys-'));
  });
  afterAll(async () => {
    await upstream.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const writeKeys = (file: string, keys: string[]) => {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ keys }));
    fs.renameSync(tmp, file);
  };

  test('reloads the file when it changes, on a kept-alive connection (a 401 closes its own)', async () => {
    const file = path.join(dir, 'api-keys.json');
    writeKeys(file, [KEY_A, KEY_B]);
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${upstream.port}`, MODEL_DEPLOY_API_KEY_FILE: file });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const call = (key: string) => request(`${gw.url}/v1/models`, { agent, headers: { authorization: `Bearer ${key}` } });
      expect((await call(KEY_A)).status).toBe(200);
      expect((await call(KEY_C)).status).toBe(401);
      writeKeys(file, [KEY_B, KEY_C]);
      // A 401 closes its connection (the body is never read), so the next call opens a new one.
      const first = await call(KEY_C);
      expect(first.status).toBe(200);
      expect(first.reused).toBe(false);
      const c = await call(KEY_C);
      expect(c.status).toBe(200);
      expect(c.reused).toBe(true);
      const a = await call(KEY_A);
      expect(a.status).toBe(401);
      expect(a.reused).toBe(true);
      expect(gw.stderr()).not.toContain(KEY_A);
      expect(gw.stderr()).not.toContain(KEY_C);
    } finally {
      agent.destroy();
      await gw.stop();
    }
  });

  test('a missing key file fails closed; health paths still answer', async () => {
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${upstream.port}`, MODEL_DEPLOY_API_KEY_FILE: path.join(dir, 'absent.json') });
    try {
      expect((await request(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_A}` } })).status).toBe(401);
      expect((await request(`${gw.url}/ping`)).status).toBe(200);
      expect((await request(`${gw.url}/health`)).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });

  test('without any key configured (SageMaker) every request passes', async () => {
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${upstream.port}` });
    try {
      const res = await request(`${gw.url}/invocations`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
