/**
 * The Hub client (src/core/hf-hub.ts) against the loopback Hub: the calls huggingface_hub makes
 * (revision quoted as one path segment, blobs=true), the token as a Bearer header, the proxy settings
 * of every other call, and a Hub that cannot be reached being "not checked", never a crash.
 */
import * as http from 'http';
import * as net from 'net';
import type { AddressInfo } from 'net';
import { DeployError } from '../../../src/core/errors';
import { HubUnreachable, hubModelConfig, hubModelInfo } from '../../../src/core/hf-hub';
import { hubWeightsBytes } from '../../../src/fit/model-facts';
import { FakeHub, QWEN_7B, startFakeHub } from '../../support/hf-hub';
import { startLoopback } from '../../support/loopback';
import { setEnv } from '../../support/env';

const SHA = QWEN_7B.refs.main ?? '';

describe('Hugging Face Hub client', () => {
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub({ 'Qwen/Qwen2.5-7B-Instruct': { ...QWEN_7B, refs: { main: SHA, 'refs/pr/1': 'c'.repeat(40) } } });
  });
  afterAll(() => hub.close());
  beforeEach(() => hub.requests.splice(0));

  it('reads the model info at a revision as huggingface_hub does, and the weights from its safetensors counts', async () => {
    const info = await hubModelInfo('Qwen/Qwen2.5-7B-Instruct', 'refs/pr/1', { env: { HF_ENDPOINT: `${hub.url}/` } });
    expect(info.sha).toBe('c'.repeat(40));
    expect(hub.requests[0]?.path).toBe('/api/models/Qwen/Qwen2.5-7B-Instruct/revision/refs%2Fpr%2F1?blobs=true');
    expect(hubWeightsBytes(info)).toBe(7615616512 * 2);
    // Without safetensors counts: the .safetensors files' sizes.
    expect(hubWeightsBytes({ ...info, safetensors: undefined })).toBe(3945441440 + 3864726352 + 3864726424 + 3556377672);
  });

  it('sends HF_TOKEN as a Bearer token and never puts it in an error', async () => {
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: 'hf_secret_token' };
    await hubModelConfig('Qwen/Qwen2.5-7B-Instruct', SHA, { env });
    expect(hub.requests[0]?.headers.authorization).toBe('Bearer hf_secret_token');
    const err = (await hubModelInfo('Qwen/missing', 'main', { env }).catch((e: unknown) => e)) as DeployError;
    expect(err).toBeInstanceOf(DeployError);
    expect(err.describe()).toBe('the Hugging Face Hub has no model Qwen/missing at revision main (Repository not found)\nCheck model.huggingface.id (owner/name as on the Hub) and model.huggingface.revision (a commit SHA, tag or branch of that repository).');
    expect(err.describe()).not.toContain('hf_secret_token');
  });

  it('HF_HUB_OFFLINE, a closed port and a failing Hub are "unreachable", with no request where offline', async () => {
    await expect(hubModelInfo('Qwen/Qwen2.5-7B-Instruct', 'main', { env: { HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: '1' } })).rejects.toThrow(HubUnreachable);
    expect(hub.requests).toHaveLength(0);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(hubModelInfo('Qwen/Qwen2.5-7B-Instruct', 'main', { env: { HF_ENDPOINT: `http://127.0.0.1:${port}` } })).rejects.toThrow(HubUnreachable);
    const failing = await startLoopback(() => ({ status: 503, body: { error: 'Service Unavailable' } }));
    try {
      await expect(hubModelInfo('Qwen/Qwen2.5-7B-Instruct', 'main', { env: { HF_ENDPOINT: failing.url } })).rejects.toThrow(/answered HTTP 503/);
    } finally {
      await failing.close();
    }
  });

  it('goes through HTTP_PROXY like every other call', async () => {
    // A CONNECT proxy that records where it was asked to go and tunnels to the loopback Hub.
    const asked: string[] = [];
    const proxy = http.createServer();
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      asked.push(req.url ?? '');
      const upstream = net.connect(Number(new URL(hub.url).port), '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const restoreEnv = setEnv({ HTTP_PROXY: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, NO_PROXY: undefined });
    try {
      const info = await hubModelInfo('Qwen/Qwen2.5-7B-Instruct', 'main', { env: { HF_ENDPOINT: 'http://hub.invalid' } });
      expect(info.sha).toBe(SHA);
      expect(asked).toEqual(['hub.invalid:80']);
    } finally {
      restoreEnv();
      await new Promise((r) => proxy.close(r));
    }
  });
});
