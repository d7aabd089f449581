/**
 * The serving side of an ECS deployment, for real where it matters: a TLS front standing in for the load
 * balancer (a self-signed certificate the bundles trust through NODE_EXTRA_CA_CERTS), the real gateway
 * (serve.sh running nginx with the image's configuration) with a key file, and a strict engine behind it —
 * Node's own HTTP parser, which answers 400 to a request with two Content-Length headers, as strict engines do.
 * `restart()` stands for a new ECS deployment: the gateway then accepts the keys the MD_SERVE labels point at
 * (here a key file and a reload that returns once the old workers have left, rather than new tasks).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { keyFileText, startGateway } from '../support/gateway';

export interface EngineRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
}

export interface Serving {
  /** host:port of the TLS front (what HOSTNAME resolves to here, through dns-hook.js). */
  address: string;
  caFile: string;
  enginePort: number;
  /** Requests that reached the engine (after the gateway). */
  engine: EngineRequest[];
  /** Status codes the engine answered, including its parser's own 400s. */
  engineStatuses: number[];
  restart(keys: string[]): void;
  close(): Promise<void>;
}

/** The name examples/model-deploy.yml gives code-assistant (security.hostname); the front's certificate names only it. */
export const HOSTNAME = 'code-assistant.example.com';

const listen = (server: net.Server) => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));

function certificate(dir: string): { key: string; cert: string } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${HOSTNAME}`,
    '-addext', `subjectAltName=DNS:${HOSTNAME}`], { stdio: 'ignore' });
  return { key, cert };
}

export async function startServing(): Promise<Serving> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-journey-serving-'));
  const engine: EngineRequest[] = [];
  const engineStatuses: number[] = [];
  const engineServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      engine.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
      engineStatuses.push(200);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url === '/health' ? '{}' : '{"choices":[{"message":{"role":"assistant","content":"ok"}}]}');
    });
  });
  engineServer.on('clientError', (_err, socket) => {
    engineStatuses.push(400);
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const enginePort = await listen(engineServer);

  const keyFile = path.join(dir, 'keys', 'api-keys.conf');
  fs.mkdirSync(path.dirname(keyFile));
  const writeKeys = (keys: string[]) => {
    const tmp = `${keyFile}.tmp`;
    fs.writeFileSync(tmp, keyFileText(keys), { mode: 0o600 });
    fs.renameSync(tmp, keyFile);
  };
  writeKeys([]);
  const gateway = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${enginePort}`, MODEL_DEPLOY_API_KEY_FILE: keyFile, MODEL_DEPLOY_ACCESS_LOG: '0' });

  const { key, cert } = certificate(dir);
  const front = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (socket) => {
    const upstream = net.connect(gateway.port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const frontPort = await listen(front);

  return {
    address: `127.0.0.1:${frontPort}`,
    caFile: cert,
    enginePort,
    engine,
    engineStatuses,
    restart: (keys) => {
      writeKeys(keys);
      gateway.reloadSync();
    },
    close: async () => {
      await gateway.stop();
      await new Promise<void>((r) => front.close(() => r()));
      engineServer.closeAllConnections();
      await new Promise<void>((r) => engineServer.close(() => r()));
    },
  };
}
