/**
 * SageMaker clients at the SDK boundary: the response stream's PayloadParts cut mid-line and
 * mid-character, stream errors, and the async path through S3 (upload, invoke, poll, read).
 */
import { mockClient } from 'aws-sdk-client-mock';
import { InvokeEndpointAsyncCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sagemakerAsyncClient, sagemakerStreamClient } from '../../../src/benchmark/client-sagemaker';
import { runBenchmark } from '../../../src/benchmark/runner';
import { resolveWorkload } from '../../../src/benchmark/workload';
import type { RequestSpec } from '../../../src/benchmark/types';
import { memoryReporter } from '../../../src/core/log';

const runtime = mockClient(SageMakerRuntimeClient);
const s3 = mockClient(S3Client);
beforeEach(() => {
  runtime.reset();
  s3.reset();
});

const REQUEST: RequestSpec = { index: 0, prompt: 'hello there', promptTokens: 2, maxTokens: 3 };
const sse = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;

/** A controllable clock: each PayloadPart advances it by the given step. */
function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function* parts(pieces: Uint8Array[], c: ReturnType<typeof clock>, stepMs: number) {
  for (const p of pieces) {
    c.advance(stepMs);
    yield { PayloadPart: { Bytes: p } };
  }
}

describe('SageMaker real-time: InvokeEndpointWithResponseStream', () => {
  it('parses engine SSE from PayloadParts split mid-line and mid-character, timing each part', async () => {
    const text = sse('héllo') + sse(' wörld') + sse('!') + 'data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3}}\n\ndata: [DONE]\n\n';
    const bytes = new TextEncoder().encode(text);
    // Cut into 7-byte parts: every line is split, and the two-byte é and ö land across parts.
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.slice(i, i + 7));
    const c = clock();
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(async () => {
      c.advance(100);
      return { Body: parts(pieces, c, 1), ContentType: 'text/event-stream' };
    });
    const client = sagemakerStreamClient({ endpointName: 'chat-prod', region: 'us-east-1', model: 'qwen', now: c.now, ignoreEos: true });
    const out = await client.send(REQUEST, new AbortController().signal);
    expect(out.success).toBe(true);
    expect(out.outputTokens).toBe(3);
    expect(out.promptLen).toBe(9);
    // The first line completes in the part that holds its newline.
    const firstLineEnd = text.indexOf('\n') + 1;
    const firstBytes = new TextEncoder().encode(text.slice(0, firstLineEnd)).length;
    expect(out.ttftMs).toBe(100 + Math.ceil(firstBytes / 7));
    expect(out.itlMs).toHaveLength(2);
    expect(out.itlMs.every((x) => x > 0)).toBe(true);

    const input = runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)[0].args[0].input;
    expect(input.EndpointName).toBe('chat-prod');
    expect(input.ContentType).toBe('application/json');
    const body = JSON.parse(new TextDecoder().decode(input.Body as Uint8Array));
    expect(body).toMatchObject({ model: 'qwen', stream: true, stream_options: { include_usage: true }, max_tokens: 3, ignore_eos: true });
    expect(body.messages).toEqual([{ role: 'user', content: 'hello there' }]);
  });

  it('reports a ModelStreamError as a failed request', async () => {
    const c = clock();
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(async () => ({
      Body: (async function* () {
        yield { PayloadPart: { Bytes: new TextEncoder().encode(sse('a')) } };
        yield { ModelStreamError: { ErrorCode: '500', Message: 'CUDA out of memory' } };
      })(),
    }));
    const out = await sagemakerStreamClient({ endpointName: 'e', region: 'us-east-1', model: 'm', now: c.now }).send(REQUEST, new AbortController().signal);
    expect(out.success).toBe(false);
    expect(out.error).toBe('ModelStreamError 500: CUDA out of memory');
  });

  it('reports an SDK error by name', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).rejects(Object.assign(new Error('Endpoint chat not found.'), { name: 'ValidationError' }));
    const out = await sagemakerStreamClient({ endpointName: 'chat', region: 'us-east-1', model: 'm' }).send(REQUEST, new AbortController().signal);
    expect(out).toMatchObject({ success: false, error: 'ValidationError: Endpoint chat not found.' });
  });

  it('drives a whole run through the runner', async () => {
    runtime.on(InvokeEndpointWithResponseStreamCommand).callsFake(async () => ({
      Body: (async function* () {
        for (const t of ['a', 'b', 'c']) yield { PayloadPart: { Bytes: new TextEncoder().encode(sse(t)) } };
      })(),
    }));
    const run = await runBenchmark({
      client: sagemakerStreamClient({ endpointName: 'e', region: 'us-east-1', model: 'm' }),
      workload: resolveWorkload({ concurrency: 4, requests: 12, outputTokens: 3 }),
      reporter: memoryReporter(),
    });
    expect(run.steps[0].metrics.completed).toBe(12);
    // Warm-up (4, at the level's concurrency) plus the 12 measured.
    expect(runtime.commandCalls(InvokeEndpointWithResponseStreamCommand)).toHaveLength(16);
    expect(run.steps[0].metrics.total_output_tokens).toBe(36);
  });
});

describe('SageMaker async: S3 input, InvokeEndpointAsync, polled output', () => {
  const notFound = () => Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  const body = (text: string) => ({ Body: { transformToString: async () => text } as never });

  it('uploads the body, invokes, polls until the output appears, and reads usage', async () => {
    const c = clock();
    let heads = 0;
    runtime.on(InvokeEndpointAsyncCommand).resolves({ InferenceId: 'i-1', OutputLocation: 's3://out-bucket/async/out/i-1.out', FailureLocation: 's3://out-bucket/async/fail/i-1-error.out' });
    s3.on(PutObjectCommand).resolves({});
    s3.on(HeadObjectCommand, { Key: 'async/out/i-1.out' }).callsFake(async () => {
      heads++;
      if (heads < 3) throw notFound();
      return {};
    });
    s3.on(HeadObjectCommand, { Key: 'async/fail/i-1-error.out' }).rejects(notFound());
    s3.on(GetObjectCommand, { Key: 'async/out/i-1.out' }).resolves(body(JSON.stringify({ choices: [{ message: { content: 'hi' } }], usage: { prompt_tokens: 5, completion_tokens: 42 } })));
    const client = sagemakerAsyncClient({
      endpointName: 'batchy',
      region: 'eu-central-1',
      model: 'm',
      inputBucket: 'model-deploy-111111111111-eu-central-1',
      inputPrefix: '/bench/input/',
      pollIntervalMs: 500,
      now: c.now,
      sleep: async (ms) => void c.advance(ms),
    });
    const out = await client.send({ ...REQUEST, index: 7 }, new AbortController().signal);
    expect(out).toMatchObject({ success: true, outputTokens: 42, promptLen: 5, latencyMs: 1500, ttftMs: 1500, itlMs: [] });

    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Bucket).toBe('model-deploy-111111111111-eu-central-1');
    expect(put.Key).toMatch(/^bench\/input\/[0-9a-f-]{36}\/7\.json$/);
    expect(JSON.parse(put.Body as string)).toMatchObject({ stream: false, max_tokens: 3 });
    expect(put.Body as string).not.toContain('stream_options');
    const invoke = runtime.commandCalls(InvokeEndpointAsyncCommand)[0].args[0].input;
    expect(invoke).toMatchObject({ EndpointName: 'batchy', InputLocation: `s3://${put.Bucket}/${put.Key}`, ContentType: 'application/json' });
    expect(heads).toBe(3);
  });

  it('reads the failure location when the endpoint fails the request', async () => {
    runtime.on(InvokeEndpointAsyncCommand).resolves({ OutputLocation: 's3://bench-bucket/out/x.out', FailureLocation: 's3://bench-bucket/fail/x-error.out' });
    s3.on(PutObjectCommand).resolves({});
    s3.on(HeadObjectCommand, { Key: 'out/x.out' }).rejects(notFound());
    s3.on(HeadObjectCommand, { Key: 'fail/x-error.out' }).resolves({});
    s3.on(GetObjectCommand, { Key: 'fail/x-error.out' }).resolves(body('model container crashed'));
    const out = await sagemakerAsyncClient({ endpointName: 'e', region: 'us-east-1', model: 'm', inputBucket: 'bench-bucket', inputPrefix: 'in', sleep: async () => undefined }).send(REQUEST, new AbortController().signal);
    expect(out).toMatchObject({ success: false, error: 'the endpoint failed the request: model container crashed' });
  });

  it('gives up at the request limit', async () => {
    const c = clock();
    runtime.on(InvokeEndpointAsyncCommand).resolves({ OutputLocation: 's3://bench-bucket/out/x.out' });
    s3.on(PutObjectCommand).resolves({});
    s3.on(HeadObjectCommand).rejects(notFound());
    const out = await sagemakerAsyncClient({ endpointName: 'e', region: 'us-east-1', model: 'm', inputBucket: 'bench-bucket', inputPrefix: 'in', pollIntervalMs: 1000, requestTimeoutMs: 5000, now: c.now, sleep: async (ms) => void c.advance(ms) }).send(REQUEST, new AbortController().signal);
    expect(out.success).toBe(false);
    expect(out.error).toBe('no output at s3://bench-bucket/out/x.out within 5 s');
    expect(s3.commandCalls(HeadObjectCommand).length).toBe(6);
  });

  it('estimates queue time as latency over the run\'s shortest', () => {
    const client = sagemakerAsyncClient({ endpointName: 'e', region: 'us-east-1', model: 'm', inputBucket: 'bench-bucket', inputPrefix: 'in' });
    const outs = [1000, 3000, 2500].map((latencyMs) => ({ success: true, promptLen: 1, outputTokens: 1, ttftMs: latencyMs, itlMs: [], latencyMs, startMs: 0 }));
    client.finish!(outs);
    expect(outs.map((o) => (o as { queueMs?: number }).queueMs)).toEqual([0, 2000, 1500]);
  });
});
