/**
 * model-deploy invoke: one request to a deployment's endpoint, by its target's own route, and the answer
 * printed. SageMaker real-time: InvokeEndpoint. Async: the body is uploaded under the input prefix the
 * stack grants the endpoint's role (as deploy's smoke test does), InvokeEndpointAsync queues it, and the
 * output or failure object is awaited. ecs/ec2: HTTPS with the API key from its secret (never printed).
 */
import { sleepUntilAborted } from '../core/poll';
import * as fs from 'fs';
import * as path from 'path';
import { randomUUID } from 'crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorMessage, errorName, isNotFound } from '../core/errors';
import type { Reporter } from '../core/log';
import { resolveTarget } from '../config/select';
import { parseS3Uri } from './client-sagemaker';
import { DeployedEndpoint, endpointApiKey, findEndpoint } from './endpoint';
import { redact } from './types';

export { INVOKE_FLAGS, INVOKE_USAGE } from './invoke-usage';

export interface InvokeOptions {
  credentials?: Credentials;
  /** Where --config and @FILE are relative to (default: the current folder). */
  cwd?: string;
  signal?: AbortSignal;
  pollMs?: number;
}

export interface InvokeAnswer {
  ok: boolean;
  /** HTTP status (ecs/ec2, SageMaker's model status), when there is one. */
  status?: number;
  text: string;
  /** Async: where the answer was read. */
  location?: string;
}

function readBody(body: string | undefined, cwd: string): string {
  if (!body) throw new DeployError('--body is required', { hint: 'The request: --body \'{"inputs": "Hello"}\' or --body @request.json.' });
  if (!body.startsWith('@')) return body;
  const file = path.resolve(cwd, body.slice(1));
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new DeployError(`--body ${body}: cannot read ${file}`, { hint: 'Give a readable file after @, or the body inline.' });
  }
}

function seconds(value: string | undefined): number {
  if (value === undefined) return 300;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 1 || n > 3600) throw new DeployError(`--timeout is "${value}", which is not valid`, { hint: 'Seconds from 1 to 3600.' });
  return n;
}

/** Runs the command from parsed flags; returns the exit code (0 answered, 1 failed answer). */
export async function invokeCommand(flags: Record<string, string>, reporter: Reporter, options: InvokeOptions = {}): Promise<number> {
  const cwd = options.cwd ?? process.cwd();
  const body = readBody(flags.body, cwd);
  const contentType = flags['content-type'] ?? 'application/json';
  if (contentType === 'application/json') {
    try {
      JSON.parse(body);
    } catch {
      throw new DeployError('--body is not valid JSON', { hint: 'Fix the JSON, or give --content-type for another format.' });
    }
  }
  const timeoutMs = seconds(flags.timeout) * 1000;
  const target = resolveTarget({ config: flags.config ?? 'model-deploy.yml', deployment: flags.deployment, environment: flags.environment, region: flags.region }, cwd);
  const [region, ...others] = target.regions;
  if (!region || others.length) {
    throw new DeployError(`deployment ${target.deployment.name} runs in ${target.regions.join(', ')}: say which`, { hint: 'Add --region REGION.' });
  }
  const ep = await findEndpoint(target, region, options.credentials);
  reporter.info(`Invoking ${ep.kind} ${ep.url ?? ep.endpointName} (${region})`);
  const answer = await invokeEndpoint(ep, { body, contentType, path: flags.path, timeoutMs, reporter, ...options });
  reporter.info(answer.text);
  if (!answer.ok) reporter.error(`The endpoint answered with a failure${answer.status ? ` (HTTP ${answer.status})` : ''}${answer.location ? ` at ${answer.location}` : ''}.`);
  return answer.ok ? 0 : 1;
}

export interface InvokeRequest extends InvokeOptions {
  body: string;
  contentType: string;
  path?: string;
  timeoutMs: number;
  reporter: Reporter;
}

/** One request by the endpoint's own route. */
export async function invokeEndpoint(ep: DeployedEndpoint, req: InvokeRequest): Promise<InvokeAnswer> {
  if (ep.kind === 'sagemaker-realtime') return invokeRealtime(ep, req);
  if (ep.kind === 'sagemaker-async') return invokeAsync(ep, req);
  return invokeHttps(ep, req);
}

async function invokeRealtime(ep: DeployedEndpoint, req: InvokeRequest): Promise<InvokeAnswer> {
  const runtime = awsClient(SageMakerRuntimeClient, { region: ep.region, credentials: req.credentials });
  try {
    const out = await runtime.send(new InvokeEndpointCommand({ EndpointName: ep.endpointName, ContentType: req.contentType, Body: Buffer.from(req.body) }), {
      abortSignal: AbortSignal.timeout(req.timeoutMs),
    });
    return { ok: true, status: 200, text: out.Body ? Buffer.from(out.Body).toString('utf8') : '' };
  } catch (err) {
    // The model's own error (ModelError) carries its status and message: an answer, not a setup error.
    const status = (err as { OriginalStatusCode?: number }).OriginalStatusCode;
    if (status !== undefined) return { ok: false, status, text: errorMessage(err) };
    throw new DeployError(`InvokeEndpoint on ${ep.endpointName} failed: ${errorName(err)}: ${errorMessage(err)}`, { hint: 'Check that the endpoint is InService and your credentials may invoke it.' });
  }
}

async function invokeAsync(ep: DeployedEndpoint, req: InvokeRequest): Promise<InvokeAnswer> {
  if (!ep.asyncInput) throw new DeployError(`no async input location for ${ep.endpointName}`, { hint: 'The stack has no OutputS3Uri output: redeploy it.' });
  const ctx = { region: ep.region, credentials: req.credentials };
  const s3 = awsClient(S3Client, ctx);
  const runtime = awsClient(SageMakerRuntimeClient, ctx);
  const owner = ep.account;
  const input = { Bucket: ep.asyncInput.bucket, Key: `${ep.asyncInput.key}invoke-${randomUUID()}` };
  await s3.send(new PutObjectCommand({ ...input, Body: req.body, ContentType: req.contentType, ExpectedBucketOwner: owner }));
  const out = await runtime.send(
    new InvokeEndpointAsyncCommand({ EndpointName: ep.endpointName, InputLocation: `s3://${input.Bucket}/${input.Key}`, ContentType: req.contentType, InvocationTimeoutSeconds: Math.ceil(req.timeoutMs / 1000) }),
  );
  if (!out.OutputLocation) throw new DeployError('InvokeEndpointAsync returned no OutputLocation', { hint: 'Check the endpoint\'s async configuration.' });
  req.reporter.info(`Queued as ${out.InferenceId ?? '?'}; waiting for ${out.OutputLocation}`);
  const places: [boolean, string][] = [[true, out.OutputLocation], ...(out.FailureLocation ? [[false, out.FailureLocation] as [boolean, string]] : [])];
  const deadline = Date.now() + req.timeoutMs;
  while (Date.now() < deadline && !req.signal?.aborted) {
    await sleepUntilAborted(req.pollMs ?? 1000, req.signal);
    for (const [ok, uri] of places) {
      const loc = parseS3Uri(uri);
      try {
        await s3.send(new HeadObjectCommand({ ...loc, ExpectedBucketOwner: owner }));
      } catch (err) {
        if (isNotFound(err)) continue;
        throw err;
      }
      const got = await s3.send(new GetObjectCommand({ ...loc, ExpectedBucketOwner: owner }));
      return { ok, text: (await got.Body?.transformToString()) ?? '', location: uri };
    }
  }
  throw new DeployError(`no output at ${out.OutputLocation} within ${Math.round(req.timeoutMs / 1000)} s`, { hint: 'The request may still be queued: raise --timeout, or read the output location later.' });
}

async function invokeHttps(ep: DeployedEndpoint, req: InvokeRequest): Promise<InvokeAnswer> {
  if (!ep.url) throw new DeployError(`no URL for ${ep.endpointName}`, { hint: 'The stack has no URL output.' });
  const key = await endpointApiKey(ep, req.reporter, req.credentials);
  const route = req.path ?? '/invocations';
  if (!route.startsWith('/')) throw new DeployError(`--path "${route}" must start with /`, { hint: 'For example /invocations or /v1/chat/completions.' });
  const url = `${ep.url.replace(/\/+$/, '')}${route}`;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': req.contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    return { ok: res.ok, status: res.status, text: redact(await res.text(), [key]) };
  } catch (err) {
    throw new DeployError(`could not reach ${url}: ${redact(errorMessage(err), [key])}`, { hint: 'Check security.allowedCidrs and that this machine can reach the load balancer.' });
  }
}
