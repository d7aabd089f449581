/**
 * SageMaker targets, signed by the SDK (SigV4) with the job's credentials:
 * - real-time: InvokeEndpointWithResponseStream. Each PayloadPart's bytes are a piece of what the
 *   serving container streams (the gateway proxies the engine's server-sent events), cut wherever the
 *   transport cut it, so they go through the same line parser as an HTTP body and are timed on arrival.
 * - async: the request body is uploaded to S3, InvokeEndpointAsync queues it, and the output (or
 *   failure) location is polled with HeadObject until it appears; the output's usage gives the token
 *   count. End-to-end latency runs from the invocation to the output being seen (polling adds up to one
 *   poll interval). The queue time is an estimate: each request's latency minus the run's shortest
 *   (the request that met the emptiest queue), since SageMaker does not report when processing began.
 */
import { sleepUntilAborted } from '../core/poll';
import { randomUUID } from 'crypto';
import { InvokeEndpointAsyncCommand, InvokeEndpointWithResponseStreamCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { awsClient, Credentials } from '../core/aws';
import { parseS3Location } from '../core/s3-location';
import { errorMessage, errorName, isNotFound } from '../core/errors';
import { chatBody, outcomeOf } from './client-openai';
import { StreamTimer } from './stream';
import { BenchClient, failedOutcome, RequestOutcome, RequestSpec } from './types';

export interface SageMakerClientOptions {
  endpointName: string;
  region: string;
  credentials?: Credentials;
  /** The model name in the chat body (the gateway passes it to the engine). */
  model: string;
  ignoreEos?: boolean;
  targetVariant?: string;
  inferenceComponentName?: string;
  now?: () => number;
}

function awsMessage(err: unknown): string {
  return `${errorName(err)}: ${errorMessage(err)}`.slice(0, 300);
}

export function sagemakerStreamClient(options: SageMakerClientOptions): BenchClient {
  const runtime = awsClient(SageMakerRuntimeClient, { region: options.region, credentials: options.credentials });
  const now = options.now ?? (() => performance.now());
  const encoder = new TextEncoder();
  return {
    label: `sagemaker-realtime ${options.endpointName} (${options.region})`,
    async send(request: RequestSpec, signal: AbortSignal): Promise<RequestOutcome> {
      const body = encoder.encode(JSON.stringify(chatBody(request, options.model, { stream: true, ignoreEos: options.ignoreEos })));
      const start = now();
      const timer = new StreamTimer(start);
      try {
        const res = await runtime.send(
          new InvokeEndpointWithResponseStreamCommand({
            EndpointName: options.endpointName,
            Body: body,
            ContentType: 'application/json',
            Accept: 'text/event-stream',
            TargetVariant: options.targetVariant,
            InferenceComponentName: options.inferenceComponentName,
          }),
          { abortSignal: signal },
        );
        if (!res.Body) return failedOutcome(request, start, 'the endpoint returned no response stream');
        for await (const event of res.Body) {
          if (event.PayloadPart?.Bytes) timer.push(event.PayloadPart.Bytes, now());
          else if (event.ModelStreamError) return failedOutcome(request, start, `ModelStreamError ${event.ModelStreamError.ErrorCode ?? ''}: ${event.ModelStreamError.Message ?? ''}`.trim());
          else if (event.InternalStreamFailure) return failedOutcome(request, start, `InternalStreamFailure: ${event.InternalStreamFailure.Message ?? ''}`.trim());
          if (signal.aborted) return failedOutcome(request, start, 'aborted', true);
        }
        timer.end(now());
      } catch (err) {
        return failedOutcome(request, start, awsMessage(err), signal.aborted);
      }
      return outcomeOf(timer, request, start);
    },
  };
}

export interface SageMakerAsyncClientOptions extends SageMakerClientOptions {
  /** Where request bodies are uploaded: s3://bucket/prefix (the endpoint's role must read it). */
  inputBucket: string;
  inputPrefix: string;
  /** The account that must own the buckets (S3's ExpectedBucketOwner): a same-named bucket elsewhere is refused. */
  expectedBucketOwner?: string;
  /** How often the output location is checked (default 1000 ms). */
  pollIntervalMs?: number;
  /** One request's limit from invocation to output (default 15 minutes, SageMaker async's own default is 15). */
  requestTimeoutMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** An s3:// location as S3 command fields (through the project's one S3-URI parser). */
export function parseS3Uri(uri: string): { Bucket: string; Key: string } {
  const loc = parseS3Location(uri);
  if (!loc || !loc.key) throw new Error(`not an s3:// object location: ${uri}`);
  return { Bucket: loc.bucket, Key: loc.key };
}

async function bodyText(body: unknown): Promise<string> {
  const b = body as { transformToString?: () => Promise<string> } | undefined;
  return b?.transformToString ? b.transformToString() : '';
}

export function sagemakerAsyncClient(options: SageMakerAsyncClientOptions): BenchClient {
  const ctx = { region: options.region, credentials: options.credentials };
  const runtime = awsClient(SageMakerRuntimeClient, ctx);
  const s3 = awsClient(S3Client, ctx);
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? sleepUntilAborted;
  const pollMs = options.pollIntervalMs ?? 1000;
  const limitMs = options.requestTimeoutMs ?? 15 * 60 * 1000;
  const run = randomUUID();
  const prefix = options.inputPrefix.replace(/^\/+|\/+$/g, '');
  const owner = options.expectedBucketOwner;

  const exists = async (loc: { Bucket: string; Key: string }, signal: AbortSignal): Promise<boolean> => {
    try {
      await s3.send(new HeadObjectCommand({ ...loc, ExpectedBucketOwner: owner }), { abortSignal: signal });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };

  return {
    label: `sagemaker-async ${options.endpointName} (${options.region})`,
    async send(request: RequestSpec, signal: AbortSignal): Promise<RequestOutcome> {
      const key = `${prefix ? `${prefix}/` : ''}${run}/${request.index}.json`;
      let start = now();
      try {
        await s3.send(
          new PutObjectCommand({ Bucket: options.inputBucket, Key: key, Body: JSON.stringify(chatBody(request, options.model, { stream: false, ignoreEos: options.ignoreEos })), ContentType: 'application/json', ExpectedBucketOwner: owner }),
          { abortSignal: signal },
        );
        start = now();
        const res = await runtime.send(
          new InvokeEndpointAsyncCommand({
            EndpointName: options.endpointName,
            InputLocation: `s3://${options.inputBucket}/${key}`,
            ContentType: 'application/json',
            InvocationTimeoutSeconds: Math.min(3600, Math.ceil(limitMs / 1000)),
          }),
          { abortSignal: signal },
        );
        if (!res.OutputLocation) return failedOutcome(request, start, 'InvokeEndpointAsync returned no OutputLocation');
        const output = parseS3Uri(res.OutputLocation);
        const failure = res.FailureLocation ? parseS3Uri(res.FailureLocation) : undefined;
        const deadline = start + limitMs;
        for (;;) {
          await sleep(pollMs, signal);
          if (signal.aborted) return failedOutcome(request, start, 'aborted', true);
          const [done, failed] = await Promise.all([exists(output, signal), failure ? exists(failure, signal) : Promise.resolve(false)]);
          const seen = now();
          if (done) {
            const text = await bodyText((await s3.send(new GetObjectCommand({ ...output, ExpectedBucketOwner: owner }), { abortSignal: signal })).Body);
            const latency = seen - start;
            let completion: number | undefined;
            let prompt: number | undefined;
            try {
              const usage = (JSON.parse(text) as { usage?: { completion_tokens?: unknown; prompt_tokens?: unknown } }).usage;
              if (typeof usage?.completion_tokens === 'number') completion = usage.completion_tokens;
              if (typeof usage?.prompt_tokens === 'number') prompt = usage.prompt_tokens;
            } catch {
              /* not JSON: the count falls back to 1, as vLLM does without a tokenizer */
            }
            // The whole answer arrives at once: TTFT is the end-to-end latency, there are no gaps.
            return { success: true, promptLen: prompt ?? request.promptTokens, outputTokens: completion ?? 0, ttftMs: latency, itlMs: [], latencyMs: latency, startMs: start };
          }
          if (failed && failure) {
            const text = await bodyText((await s3.send(new GetObjectCommand({ ...failure, ExpectedBucketOwner: owner }), { abortSignal: signal })).Body).catch(() => '');
            return failedOutcome(request, start, `the endpoint failed the request: ${text.slice(0, 200)}`);
          }
          if (seen > deadline) return failedOutcome(request, start, `no output at ${res.OutputLocation} within ${Math.round(limitMs / 1000)} s`);
        }
      } catch (err) {
        return failedOutcome(request, start, awsMessage(err), signal.aborted);
      }
    },
    finish(outcomes: RequestOutcome[]): void {
      const ok = outcomes.filter((o) => o.success);
      if (!ok.length) return;
      const base = ok.reduce((a, o) => Math.min(a, o.latencyMs), Infinity);
      for (const o of ok) o.queueMs = o.latencyMs - base;
    },
  };
}
