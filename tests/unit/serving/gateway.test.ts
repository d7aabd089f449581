import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { REFRESH_KEYS_SH, RunningGateway, startGateway, waitFor } from '../../support/gateway';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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

  test('keys are matched exactly and case-sensitively', async () => {
    // nginx's string maps ignore case: the key lines are anchored regular expressions, which do not.
    for (const key of [KEY_A.toLowerCase(), KEY_A.toUpperCase(), `${KEY_A.slice(0, 24)}.*`, `${KEY_A}\t${KEY_B}`]) {
      expect((await request(`${gw.url}/v1/models`, { headers: { 'x-api-key': key } })).status).toBe(401);
    }
    expect((await request(`${gw.url}/v1/models`, { headers: { authorization: `bearer ${KEY_A}` } })).status).toBe(401);
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

  test('the access log has the path without its query string, and no header', async () => {
    const secret = 'Q'.repeat(40);
    expect((await request(`${gw.url}/v1/models?api_key=${secret}`, { headers: { authorization: `Bearer ${KEY_A}`, 'x-trace': secret } })).status).toBe(200);
    await waitFor(() => gw.stderr().includes('"GET /v1/models HTTP/1.1" 200'));
    expect(gw.stderr()).toContain('"GET /v1/models HTTP/1.1" 200');
    expect(gw.stderr()).not.toContain(secret);
    expect(gw.stderr()).not.toContain(KEY_A);
  });

  test('an image without nginx stops at start, saying what is missing', async () => {
    await expect(startGateway({ MODEL_DEPLOY_NGINX: '/nonexistent/nginx', PATH: '/usr/bin:/bin' })).rejects.toThrow(/nginx is not in this image .*build stage/);
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

  /**
   * Runs templates/serving/refresh-keys.sh as EC2's timer does, with an AWS CLI stand-in that answers
   * get-secret-value for the MD_SERVE_A and MD_SERVE_B stages, and the gateway's reload as its command.
   */
  const refresh = (file: string, a: string, b: string, reload: string) => {
    const cli = path.join(dir, 'aws');
    fs.writeFileSync(
      cli,
      ['#!/usr/bin/env bash', 'case "$*" in', `  *MD_SERVE_A*) echo '{"apiKey":"${a}"}' ;;`, `  *MD_SERVE_B*) echo '{"apiKey":"${b}"}' ;;`, '  *) exit 2 ;;', 'esac', ''].join('\n'),
      { mode: 0o755 },
    );
    return execFileSync('bash', [REFRESH_KEYS_SH], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        MODEL_DEPLOY_KEY_CONFIG: path.join(dir, 'absent.env'),
        MODEL_DEPLOY_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:md-key-AbCdEf',
        MODEL_DEPLOY_API_KEY_FILE: file,
        MODEL_DEPLOY_AWS_CLI: cli,
        MODEL_DEPLOY_GATEWAY_RELOAD: reload,
      },
    });
  };

  test('refresh-keys.sh rewrites the key file and reloads nginx: the new pair of keys is accepted, the retired key is not', async () => {
    const file = path.join(dir, 'api-keys.conf');
    refresh(file, KEY_A, KEY_B, '');
    const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${upstream.port}`, MODEL_DEPLOY_API_KEY_FILE: file });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const call = (key: string, via = agent) => request(`${gw.url}/v1/models`, { agent: via, headers: { authorization: `Bearer ${key}` } });
      expect((await call(KEY_A)).status).toBe(200);
      expect((await call(KEY_B)).status).toBe(200);
      expect((await call(KEY_C)).status).toBe(401);
      const oldWorkers = gw.workerPids();
      const out = refresh(file, KEY_B, KEY_C, `kill -HUP ${gw.child.pid}`);
      expect(out).toContain('the gateway reloads its keys');
      expect(out).not.toContain(KEY_C);
      // nginx starts new workers with the new keys; the old ones stop accepting and leave once idle.
      await waitFor(() => oldWorkers.every((pid) => !alive(pid)) && gw.workerPids().length > 0);
      expect(oldWorkers.filter(alive)).toEqual([]);
      const fresh = () => call(KEY_C, new http.Agent({ keepAlive: false }));
      expect((await fresh()).status).toBe(200);
      expect((await call(KEY_A, new http.Agent({ keepAlive: false }))).status).toBe(401);
      expect((await call(KEY_B, new http.Agent({ keepAlive: false }))).status).toBe(200);
      // Unchanged keys: no rename, no reload.
      expect(refresh(file, KEY_B, KEY_C, 'exit 1')).toContain('is up to date');
      expect(gw.stderr()).not.toContain(KEY_A);
      expect(gw.stderr()).not.toContain(KEY_C);
    } finally {
      agent.destroy();
      await gw.stop();
    }
  });

  test('refresh-keys.sh refuses a key that is not letters and digits and leaves the old file', () => {
    const file = path.join(dir, 'refused.conf');
    refresh(file, KEY_A, KEY_B, '');
    const before = fs.readFileSync(file, 'utf8');
    expect(() => refresh(file, KEY_A, `${KEY_B.slice(0, 40)}$ 1; } #`, '')).toThrow(/no usable apiKey/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.api-keys'))).toEqual([]);
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
