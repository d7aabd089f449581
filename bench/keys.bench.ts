/** Gateway overhead per request on loopback: a tiny upstream called directly vs through the gateway (nginx) with a key. */
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { BenchRow } from './types';
import { startGateway } from '../tests/support/gateway';

const KEY = 'K'.repeat(48);
const REQUESTS = 300;

function call(agent: http.Agent, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end('{"messages":[]}');
  });
}

async function perRequestMs(url: string): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let i = 0; i < 20; i++) await call(agent, url);
  const start = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) await call(agent, url);
  agent.destroy();
  return Number(process.hrtime.bigint() - start) / 1e6 / REQUESTS;
}

export default async function (): Promise<BenchRow[]> {
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"choices":[]}'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const gw = await startGateway({ MODEL_DEPLOY_UPSTREAM: `127.0.0.1:${port}`, MODEL_DEPLOY_API_KEY_A: KEY, MODEL_DEPLOY_API_KEY_B: 'B'.repeat(48), MODEL_DEPLOY_ACCESS_LOG: '0' });
  try {
    const direct = await perRequestMs(`http://127.0.0.1:${port}/v1/chat/completions`);
    const viaGateway = await perRequestMs(`${gw.url}/invocations`);
    const overhead = viaGateway - direct;
    return [
      { name: 'keys: loopback request, direct', value: Number(direct.toFixed(3)), unit: 'ms' },
      { name: 'keys: loopback request, through the gateway (nginx) with key check', value: Number(viaGateway.toFixed(3)), unit: 'ms' },
      { name: 'keys: gateway overhead per request', value: Number(overhead.toFixed(3)), unit: 'ms', target: '< 5 ms', ok: overhead < 5 },
    ];
  } finally {
    await gw.stop();
    upstream.closeAllConnections();
    upstream.close();
  }
}
