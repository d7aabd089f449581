/** Starts templates/serving/gateway.py on a loopback port (tests and benchmarks). */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';

export const GATEWAY = path.resolve(__dirname, '..', '..', '..', 'templates', 'serving', 'gateway.py');

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
