/** Starts templates/serving/gateway.py on a loopback port (serving tests, the journey's ECS side, benchmarks). */
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';

export const GATEWAY = path.resolve(__dirname, '..', '..', 'templates', 'serving', 'gateway.py');

export interface RunningGateway {
  url: string;
  port: number;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const child = spawn('python3', [GATEWAY], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', MODEL_DEPLOY_LISTEN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(err);
      if (m && !(child as { resolved?: boolean }).resolved) {
        (child as { resolved?: boolean }).resolved = true;
        const port = Number(m[1]);
        resolve({
          url: `http://127.0.0.1:${port}`,
          port,
          child,
          stderr: () => err,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${err}`)));
  });
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
