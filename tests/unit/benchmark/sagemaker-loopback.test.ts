/**
 * The SageMaker clients with the real SDK (signing, event-stream decoding, S3 REST) against a loopback
 * server speaking the runtime's wire format: `application/vnd.amazon.eventstream` messages whose
 * PayloadPart payloads are the gateway's server-sent events cut mid-line, and S3 PUT/HEAD/GET for the
 * async path. AWS_ENDPOINT_URL points the clients at it, as the process tests do.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { sagemakerAsyncClient, sagemakerStreamClient } from '../../../src/benchmark/client-sagemaker';
import { runBenchmark } from '../../../src/benchmark/runner';
import { resolveWorkload } from '../../../src/benchmark/workload';
import { memoryReporter } from '../../../src/core/log';
import { useEnv } from '../../support/env';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const payloadPart = (bytes: Uint8Array) =>
  codec.encode({
    headers: {
      ':event-type': { type: 'string', value: 'PayloadPart' },
      ':message-type': { type: 'string', value: 'event' },
      ':content-type': { type: 'string', value: 'application/octet-stream' },
    },
    body: bytes,
  });
const sse = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server;
const seen: Seen[] = [];
const objects = new Map<string, string>();
// The SDK's endpoint and loopback credentials for the suite, restored after it.
const setSuiteEnv = useEnv(undefined, 'all');

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const url = req.url!.split('?')[0];
      if (req.method === 'POST' && url === '/endpoints/chat/invocations-response-stream') {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-sagemaker-content-type': 'text/event-stream' });
        const text = sse('one') + sse(' two') + sse(' three') + 'data: {"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":3}}\n\ndata: [DONE]\n\n';
        const bytes = Buffer.from(text);
        const parts: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += 23) parts.push(bytes.subarray(i, i + 23));
        let k = 0;
        const next = () => {
          if (k >= parts.length) {
            res.end();
            return;
          }
          res.write(payloadPart(parts[k++]));
          setTimeout(next, 2);
        };
        setTimeout(next, 30);
        return;
      }
      if (req.method === 'POST' && url === '/endpoints/batch/async-invocations') {
        const input = req.headers['x-amzn-sagemaker-inputlocation'] as string;
        const id = input.split('/').pop()!.replace('.json', '');
        // The "endpoint" answers 50 ms later.
        setTimeout(() => objects.set(`/out-bucket/out/${id}.out`, JSON.stringify({ choices: [{ message: { content: 'ok' } }], usage: { prompt_tokens: 4, completion_tokens: 7 } })), 50);
        res.writeHead(202, { 'content-type': 'application/json', 'x-amzn-sagemaker-outputlocation': `s3://out-bucket/out/${id}.out`, 'x-amzn-sagemaker-failurelocation': `s3://out-bucket/fail/${id}.out` });
        res.end(JSON.stringify({ InferenceId: id }));
        return;
      }
      if (req.method === 'PUT') {
        objects.set(url, body);
        res.writeHead(200, { etag: '"x"' });
        return res.end();
      }
      if (req.method === 'HEAD' || req.method === 'GET') {
        const obj = objects.get(url);
        if (obj === undefined) {
          res.writeHead(404, { 'content-type': 'application/xml' });
          return res.end(req.method === 'HEAD' ? undefined : '<Error><Code>NoSuchKey</Code><Message>no</Message></Error>');
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(obj) });
        return res.end(req.method === 'HEAD' ? undefined : obj);
      }
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ message: `unhandled ${req.method} ${req.url}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const env = { AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, AWS_ACCESS_KEY_ID: 'AKIDLOOPBACK', AWS_SECRET_ACCESS_KEY: 'loopback', AWS_EC2_METADATA_DISABLED: 'true', MODEL_DEPLOY_MAX_ATTEMPTS: '1' };
  setSuiteEnv(env);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('real SDK against a loopback SageMaker runtime', () => {
  it('decodes event-stream PayloadParts cut mid-line and times the tokens', async () => {
    const client = sagemakerStreamClient({ endpointName: 'chat', region: 'us-east-1', model: 'm' });
    const out = await client.send({ index: 0, prompt: 'a b c d', promptTokens: 4, maxTokens: 3 }, new AbortController().signal);
    expect(out.error).toBeUndefined();
    expect(out).toMatchObject({ success: true, outputTokens: 3, promptLen: 4 });
    expect(out.ttftMs).toBeGreaterThanOrEqual(25);
    expect(out.itlMs).toHaveLength(2);
    const call = seen.find((s) => s.url.startsWith('/endpoints/chat/'))!;
    // Signed by the SDK (SigV4), the chat body as the gateway expects it.
    expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLOOPBACK\/\d{8}\/us-east-1\/sagemaker\/aws4_request/);
    expect(call.headers['x-amzn-sagemaker-accept']).toBe('text/event-stream');
    expect(JSON.parse(call.body)).toMatchObject({ stream: true, max_tokens: 3, messages: [{ role: 'user', content: 'a b c d' }] });
  });

  it('runs the async path: S3 upload, InvokeEndpointAsync, HeadObject until the output appears', async () => {
    const client = sagemakerAsyncClient({ endpointName: 'batch', region: 'us-east-1', model: 'm', inputBucket: 'in-bucket', inputPrefix: 'bench', pollIntervalMs: 20 });
    const run = await runBenchmark({ client, workload: resolveWorkload({ concurrency: 2, requests: 4, promptTokens: 4, outputTokens: 7 }), reporter: memoryReporter() });
    const m = run.steps[0].metrics;
    expect(run.steps[0].errors).toEqual([]);
    expect(m).toMatchObject({ completed: 4, failed: 0, total_output_tokens: 28 });
    expect(m.mean_e2el_ms).toBeGreaterThanOrEqual(50);
    expect(m.mean_queue_time_ms).toBeGreaterThanOrEqual(0);
    const puts = seen.filter((s) => s.method === 'PUT');
    expect(puts.length).toBe(6); // 2 warm-up + 4 measured
    expect(puts.map((p) => p.url.split('?')[0].split('/').pop()).sort()).toEqual(['-1.json', '-2.json', '0.json', '1.json', '2.json', '3.json']);
    expect(puts[0].url).toMatch(/^\/in-bucket\/bench\/[0-9a-f-]{36}\//);
    expect(seen.some((s) => s.method === 'HEAD' && s.url.startsWith('/out-bucket/out/'))).toBe(true);
  });
});
