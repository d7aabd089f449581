/**
 * The serving gateway as it runs in the image: templates/serving/serve.sh starting real nginx with the
 * configuration the image renderer produces (templates/serving/nginx.conf), on a loopback port, in front of
 * a loopback engine the test runs itself (serve.sh's own engine is a `sleep`). Serving tests, the journey's
 * ECS side and the benchmarks use it.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { GatewaySettings, renderGatewayConfig } from '../../src/image/render';

const ROOT = path.resolve(__dirname, '..', '..');
export const SERVE_SH = path.join(ROOT, 'templates', 'serving', 'serve.sh');
export const REFRESH_KEYS_SH = path.join(ROOT, 'templates', 'serving', 'refresh-keys.sh');

/** The nginx the tests run: MODEL_DEPLOY_TEST_NGINX, else the distribution's (.ci/run installs it). */
export function nginxBinary(): string {
  const candidates = [process.env.MODEL_DEPLOY_TEST_NGINX, '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];
  const found = candidates.find((c): c is string => !!c && fs.existsSync(c));
  if (!found) throw new Error('nginx is not installed (apt-get install -y nginx, or set MODEL_DEPLOY_TEST_NGINX): the serving tests run the real gateway');
  return found;
}

/** A key file as EC2's refresh-keys.sh writes it (nginx key map lines); keys are letters and digits. */
export function keyFileText(keys: string[]): string {
  for (const key of keys) if (!/^[A-Za-z0-9]+$/.test(key)) throw new Error('API keys are letters and digits');
  return keys.map((key) => `"~^${key}$" 1;\n`).join('');
}

export interface RunningGateway {
  url: string;
  port: number;
  /** serve.sh (the container's PID 1). */
  child: ChildProcess;
  /** nginx's master process. */
  nginxPid(): number;
  /** nginx's worker processes now. */
  workerPids(): number[];
  /** The folder serve.sh runs nginx in (api-keys.conf, nginx.conf, nginx.pid). */
  runDir: string;
  stderr(): string;
  /** SIGHUP to serve.sh, as EC2's refresh does (docker kill --signal HUP): keys re-read, nginx reloaded. */
  reload(): void;
  /** reload(), then blocks until the workers from before it have left: every new connection has the new keys. */
  reloadSync(): void;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * `env` is serve.sh's environment (the keys: MODEL_DEPLOY_API_KEY_A/_B, MODEL_DEPLOY_API_KEY_FILE). Two
 * names are settings of the rendered configuration instead: MODEL_DEPLOY_UPSTREAM (the engine, host:port)
 * and MODEL_DEPLOY_ACCESS_LOG ("0": no access log). `settings` overrides the image's defaults.
 */
export async function startGateway(env: Record<string, string>, settings: Partial<GatewaySettings> = {}): Promise<RunningGateway> {
  const { MODEL_DEPLOY_UPSTREAM: upstream = '127.0.0.1:9', MODEL_DEPLOY_ACCESS_LOG: accessLog, ...serveEnv } = env;
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-gateway-'));
  // As in the image's /tmp: nginx's workers (nobody, when the tests run as root) pass through to the run folder.
  fs.chmodSync(dir, 0o711);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, renderGatewayConfig(ROOT, { listen: `127.0.0.1:${port}`, upstream, accessLog: accessLog !== '0', workerProcesses: 1, ...settings }));
  const runDir = path.join(dir, 'run');
  // A file, not a pipe: nginx opens /dev/stderr for its access log, which a socket (Node's pipes) refuses.
  const logFile = path.join(dir, 'stderr.log');
  const log = fs.openSync(logFile, 'a');
  const child = spawn('bash', [SERVE_SH], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      MODEL_DEPLOY_ENGINE_CMD: 'sleep infinity',
      MODEL_DEPLOY_NGINX: nginxBinary(),
      MODEL_DEPLOY_NGINX_CONF: conf,
      MODEL_DEPLOY_RUN_DIR: runDir,
      ...serveEnv,
    },
    stdio: ['ignore', 'ignore', log],
  });
  fs.closeSync(log);
  let err = '';
  const stderr = () => {
    try {
      err = fs.readFileSync(logFile, 'utf8');
    } catch {
      // removed at stop: the last read stands
    }
    return err;
  };
  let exited = false;
  child.once('exit', () => (exited = true));
  const end = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > end) {
      child.kill('SIGTERM');
      const text = stderr();
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`the gateway did not start on port ${port}: ${text}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const nginxPid = () => Number(fs.readFileSync(path.join(runDir, 'nginx.pid'), 'utf8').trim());
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    runDir,
    nginxPid,
    workerPids: () => childrenOf(nginxPid()),
    stderr,
    reload: () => void child.kill('SIGHUP'),
    reloadSync: () => {
      const old = childrenOf(nginxPid());
      child.kill('SIGHUP');
      // Synchronous on purpose: callers are fakes answering inside one request (an ECS deployment).
      const wait = `for _ in $(seq 500); do gone=1; for p in ${old.join(' ')}; do kill -0 "$p" 2>/dev/null && gone=0; done; [ "$gone" = 1 ] && exit 0; sleep 0.02; done; exit 1`;
      execFileSync('bash', ['-c', wait]);
    },
    stop: () =>
      new Promise<void>((done) => {
        const finish = () => {
          stderr();
          fs.rmSync(dir, { recursive: true, force: true });
          done();
        };
        if (child.exitCode !== null || child.signalCode !== null) return finish();
        child.once('exit', finish);
        child.kill('SIGTERM');
      }),
  };
}

export interface TrickleResult {
  /** From connect to close. */
  ms: number;
  /** Bytes the server sent back before closing. */
  bytes: number;
  /** The server closed the connection (not our own limit). */
  closedByServer: boolean;
}

/**
 * A slow-headers client: sends a request line, then a header line every `everyMs`, never finishing the head,
 * until the server closes the connection or `limitMs` passes (then it gives up and closes it itself).
 */
export function trickleHeaders(port: number, { everyMs = 200, limitMs = 30_000 } = {}): Promise<TrickleResult> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let bytes = 0;
    let gaveUp = false;
    let timer: NodeJS.Timeout | undefined;
    const limit = setTimeout(() => {
      gaveUp = true;
      sock.destroy();
    }, limitMs);
    sock.on('connect', () => {
      sock.write('GET /v1/models HTTP/1.1\r\n');
      timer = setInterval(() => sock.write('X-Slow: a\r\n'), everyMs);
    });
    sock.on('data', (d: Buffer) => (bytes += d.length));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      clearTimeout(limit);
      resolve({ ms: Date.now() - started, bytes, closedByServer: !gaveUp });
    });
  });
}

/** The slot-exhaustion attacks of issue 20 (Medium 4), each one connection's behaviour. */
export type HostileKind =
  /** Connects and sends nothing. */
  | 'idle'
  /** POST /ping with a 60 kB Content-Length (under the 64 KiB the health route took), then one byte of body every 75 ms (~13 bytes/s). */
  | 'slow-ping-body'
  /** One complete GET /ping, then stays connected and silent (an idle keep-alive connection). */
  | 'keep-alive'
  /** A request line, then a header line every 200 ms, never ending the head. */
  | 'slow-headers';

export interface HostilePool {
  /** Hostile connections established and not closed yet. */
  open(): number;
  /** The most that were open at once. */
  peakOpen(): number;
  /** Connections opened in all (the pool replaces every one the server closes). */
  opened(): number;
  /** Answers with this status the hostile connections received, by status. */
  statuses(): Record<number, number>;
  stop(): void;
}

/**
 * Holds `count` hostile connections of one kind open against the gateway, replacing each one the server
 * closes (after `reconnectMs`), from `peers` loopback addresses (127.0.0.2, 127.0.0.3, ...: Linux routes all
 * of 127/8 to the loopback interface), spread evenly. One shared timer drives every trickle.
 */
export function holdHostile(port: number, kind: HostileKind, { count = 320, peers = 1, reconnectMs = 50 } = {}): HostilePool {
  const socks = new Set<net.Socket>();
  let open = 0;
  let peak = 0;
  let opened = 0;
  let stopped = false;
  const statuses: Record<number, number> = {};
  const connect = (i: number) => {
    if (stopped) return;
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (i % peers)}` });
    let connected = false;
    let got = '';
    opened++;
    socks.add(sock);
    sock.setNoDelay(true);
    sock.on('connect', () => {
      connected = true;
      open++;
      peak = Math.max(peak, open);
      if (kind === 'slow-ping-body') sock.write('POST /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n');
      if (kind === 'keep-alive') sock.write('GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
      if (kind === 'slow-headers') sock.write('GET /v1/models HTTP/1.1\r\nHost: x\r\n');
    });
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m && got.includes('\r\n\r\n')) {
        statuses[Number(m[1])] = (statuses[Number(m[1])] ?? 0) + 1;
        got = '';
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      socks.delete(sock);
      if (connected) open--;
      if (!stopped) setTimeout(() => connect(i), reconnectMs);
    });
  };
  for (let i = 0; i < count; i++) connect(i);
  const every = kind === 'slow-ping-body' ? 75 : 200;
  const trickle =
    kind === 'slow-ping-body' || kind === 'slow-headers'
      ? setInterval(() => {
          for (const s of socks) if (s.readyState === 'open') s.write(kind === 'slow-ping-body' ? 'a' : 'X-Slow: a\r\n');
        }, every)
      : undefined;
  return {
    open: () => open,
    peakOpen: () => peak,
    opened: () => opened,
    statuses: () => ({ ...statuses }),
    stop: () => {
      stopped = true;
      clearInterval(trickle);
      for (const s of socks) s.destroy();
    },
  };
}

export interface LegitResult {
  status: number;
  /** From connect to the end of the answer's head. */
  ms: number;
}

/**
 * An authenticated client from 127.0.0.1: `requests` requests one after the other, each on a new connection
 * (the worst case: every one needs a slot), each given up after `timeoutMs` (status 0).
 */
export async function legitRequests(port: number, key: string, { requests = 20, timeoutMs = 15_000, path = '/v1/models' } = {}): Promise<LegitResult[]> {
  const results: LegitResult[] = [];
  for (let i = 0; i < requests; i++) {
    results.push(
      await new Promise<LegitResult>((resolve) => {
        const started = performance.now();
        const sock = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
        let got = '';
        let done = false;
        const finish = (status: number) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          sock.destroy();
          resolve({ status, ms: performance.now() - started });
        };
        const timer = setTimeout(() => finish(0), timeoutMs);
        sock.setNoDelay(true);
        sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`));
        sock.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
          if (m && got.includes('\r\n\r\n')) finish(Number(m[1]));
        });
        sock.on('error', () => finish(0));
        sock.on('close', () => finish(0));
      }),
    );
  }
  return results;
}

/** Resolves once `check` holds, polling every 50 ms, or after `ms` (then the assertion after it fails). */
export async function waitFor(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}
