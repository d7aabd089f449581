/**
 * After the stack: is the endpoint really serving what we deployed? SageMaker can roll an update
 * back by itself and return to InService on the OLD config, so a green stack proves little. Then an
 * optional smoke test with the spec's payload.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeEndpointCommand, DescribeEndpointCommandOutput, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { DeployError, errorMessage, errorName, explainAwsError, isNotFound, SourceLocation } from '../core/errors';
import type { Reporter } from '../core/log';
import { isPollTimeout, poll, PollOptions } from '../core/poll';
import { parseS3Location, S3Location } from '../core/s3-location';
import type { Deployment } from '../config/types';
import { RUNNING_POLL_MAX_MS, stackPhysicalIds } from './running-state';
import { elapsedText } from './events';
import { startupBudget } from './budgets';
import { InvokeEndpointCommand, InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { PutObjectCommand, HeadObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';

export interface HintContext {
  deployment: Deployment;
  /** Finds a spec field's position (Spec.locate); absent: the deployment's line. */
  locate?: (path: (string | number)[]) => SourceLocation;
}

/** Advice for the failure reasons users meet most (from stack events or DescribeEndpoint). */
export function adviceFor(reason: string | undefined, ctx: HintContext): { hint?: string; location?: SourceLocation } {
  const d = ctx.deployment;
  const where = (field: string[]) => ctx.locate?.(['deployments', d.name, ...field]) ?? d.source;
  if (!reason) return {};
  if (/did not pass the ping health check/i.test(reason)) {
    return {
      location: where(['healthCheck', 'startupTimeoutSeconds']),
      hint:
        `The container was not healthy within its start-up budget (${startupBudget(d).seconds} s, ${startupBudget(d).from}). Large models need longer to ` +
        'download and load: raise healthCheck.startupTimeoutSeconds (up to 3600) and, for big weights, healthCheck.modelDownloadTimeoutSeconds. ' +
        'The container logs are in CloudWatch under /aws/sagemaker/Endpoints/<endpoint name>.',
    };
  }
  if (/ResourceLimitExceeded|service limit|quota/i.test(reason)) {
    return { location: where(['instanceType']), hint: `Request a higher "${d.instanceType} for endpoint usage" quota in Service Quotas, or pick another instance type.` };
  }
  if (/insufficient capacity/i.test(reason)) {
    return { location: where(['instanceType']), hint: `AWS has no ${d.instanceType} capacity in this region right now: retry later, or choose another instance type or region.` };
  }
  if (/CannotStartContainerError|failed to pull|image/i.test(reason) && /ECR|image|pull/i.test(reason)) {
    return { hint: 'Check that the image exists (build-model output image-uri) and that the execution role may pull it.' };
  }
  return {};
}

type PollSeams = Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;

export interface VerifyOptions extends HintContext {
  sm: SageMakerClient;
  cfn: CloudFormationClient;
  stackId: string;
  endpointName: string;
  deadline: number;
  reporter: Reporter;
  signal?: AbortSignal;
  pollOverrides?: PollSeams;
  /** The new config's name when the stack outputs it; otherwise read from the stack's resources. */
  expectedConfig?: string;
}

export interface EndpointState {
  endpointArn?: string;
  endpointConfigName?: string;
  status: string;
}

/** The EndpointConfig the stack now holds (its physical id is the name). */
export async function stackEndpointConfig(cfn: CloudFormationClient, stackId: string): Promise<string | undefined> {
  return (await stackPhysicalIds(cfn, stackId)).get('AWS::SageMaker::EndpointConfig');
}

const SETTLING = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'UpdateRollbackFailed']);

export async function verifySageMakerEndpoint(options: VerifyOptions): Promise<EndpointState> {
  const { sm, endpointName, reporter } = options;
  let expected: string | undefined;
  let endpoint: DescribeEndpointCommandOutput;
  try {
    expected = options.expectedConfig || (await stackEndpointConfig(options.cfn, options.stackId));
    const now = options.pollOverrides?.now ?? Date.now;
    ({ value: endpoint } = await poll<DescribeEndpointCommandOutput>({
      check: () => sm.send(new DescribeEndpointCommand({ EndpointName: endpointName })),
      done: (e) => !SETTLING.has(e.EndpointStatus ?? '') || e.EndpointStatus === 'UpdateRollbackFailed',
      what: `endpoint ${endpointName} to settle`,
      initialDelayMs: 2000,
      maxDelayMs: RUNNING_POLL_MAX_MS,
      heartbeat: { say: (ms) => reporter.info(`Still waiting for endpoint ${endpointName} to settle (${elapsedText(ms)}).`) },
      timeoutMs: Math.max(0, options.deadline - now()),
      signal: options.signal,
      ...options.pollOverrides,
    }));
  } catch (err) {
    throw explainAwsError(err, `Checking endpoint ${endpointName}`);
  }
  const status = endpoint.EndpointStatus ?? 'Unknown';
  const serving = endpoint.EndpointConfigName;
  if (status !== 'InService') {
    const advice = adviceFor(endpoint.FailureReason, options);
    throw new DeployError(`Endpoint ${endpointName} is ${status}${endpoint.FailureReason ? `: ${endpoint.FailureReason}` : ''}.`, {
      title: 'Endpoint not in service',
      location: advice.location,
      hint: advice.hint ?? `See the endpoint's events and CloudWatch logs (/aws/sagemaker/Endpoints/${endpointName}).`,
    });
  }
  if (expected && serving !== expected) {
    const advice = adviceFor(endpoint.FailureReason, options);
    throw new DeployError(
      `Endpoint ${endpointName} is InService on ${serving}, not on the new config ${expected}: SageMaker rolled the update back by itself${endpoint.FailureReason ? ` (${endpoint.FailureReason})` : ''}. The previous version keeps serving.`,
      {
        title: 'SageMaker rolled back the update',
        location: advice.location,
        hint: advice.hint ?? 'A rollback alarm fired or the new fleet failed its health check: see the endpoint events and /aws/sagemaker/Endpoints logs, fix, deploy again.',
      },
    );
  }
  reporter.info(`Endpoint ${endpointName} is InService on ${serving}.`);
  return { endpointArn: endpoint.EndpointArn, endpointConfigName: serving, status };
}

// ---- smoke tests ------------------------------------------------------------------------------

export interface SmokeTest {
  payload: unknown;
  contentType: string;
  expectStatus: number;
}

export function payloadBytes(smoke: SmokeTest): Buffer {
  return Buffer.from(typeof smoke.payload === 'string' ? smoke.payload : JSON.stringify(smoke.payload), 'utf8');
}

function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export interface SmokeResult {
  ok: boolean;
  status?: number;
  detail: string;
}

export async function smokeTestRealtime(options: { runtime: import('@aws-sdk/client-sagemaker-runtime').SageMakerRuntimeClient; endpointName: string; smoke: SmokeTest; reporter: Reporter }): Promise<SmokeResult> {
  const { smoke, endpointName } = options;
  try {
    const out = await options.runtime.send(
      new InvokeEndpointCommand({ EndpointName: endpointName, ContentType: smoke.contentType, Body: payloadBytes(smoke) }),
    );
    const text = out.Body ? Buffer.from(out.Body).toString('utf8') : '';
    if (smoke.expectStatus !== 200) {
      throw new DeployError(`Smoke test: ${endpointName} answered 200, expected ${smoke.expectStatus}.`, { title: 'Smoke test failed' });
    }
    options.reporter.info(`Smoke test passed: ${preview(text)}`);
    return { ok: true, status: 200, detail: preview(text) };
  } catch (err) {
    if (err instanceof DeployError) throw err;
    const original = (err as { OriginalStatusCode?: number }).OriginalStatusCode;
    if (original !== undefined && original === smoke.expectStatus) return { ok: true, status: original, detail: errorMessage(err) };
    throw new DeployError(`Smoke test: invoking ${endpointName} failed: ${errorName(err)}: ${errorMessage(err)}`, {
      title: 'Smoke test failed',
      hint: `The endpoint is up but does not answer the smokeTest payload as expected. Check the container logs (/aws/sagemaker/Endpoints/${endpointName}) and the payload's format for the engine.`,
    });
  }
}

export interface AsyncSmokeOptions {
  runtime: import('@aws-sdk/client-sagemaker-runtime').SageMakerRuntimeClient;
  s3: import('@aws-sdk/client-s3').S3Client;
  endpointName: string;
  smoke: SmokeTest;
  bucket: string;
  key: string;
  /** The account that must own every bucket touched (a same-named bucket elsewhere is refused). */
  expectedBucketOwner?: string;
  /** Longest wait for the answer; a scale-from-zero endpoint takes minutes to start. */
  waitMs: number;
  reporter: Reporter;
  signal?: AbortSignal;
  pollOverrides?: PollSeams;
}

/** An object's location; a bucket or prefix alone is no answer to wait for. */
function objectLocation(url: string): S3Location | undefined {
  const loc = parseS3Location(url);
  return loc?.key ? loc : undefined;
}

/**
 * Async endpoints take their input from S3: the payload goes to the artifact bucket, we queue it,
 * then watch for the output or failure object. No answer in time is a warning, not a failure: an
 * endpoint scaled to zero only starts an instance once the backlog alarm fires.
 */
export async function smokeTestAsync(options: AsyncSmokeOptions): Promise<SmokeResult> {
  const { s3, smoke, endpointName, reporter } = options;
  let output: { bucket: string; key: string } | undefined;
  let failure: { bucket: string; key: string } | undefined;
  try {
    await s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: options.key, Body: payloadBytes(smoke), ContentType: smoke.contentType, ExpectedBucketOwner: options.expectedBucketOwner }));
    const out = await options.runtime.send(
      new InvokeEndpointAsyncCommand({ EndpointName: endpointName, InputLocation: `s3://${options.bucket}/${options.key}`, ContentType: smoke.contentType }),
    );
    output = out.OutputLocation ? objectLocation(out.OutputLocation) : undefined;
    failure = out.FailureLocation ? objectLocation(out.FailureLocation) : undefined;
    reporter.info(`Smoke test queued (inference ${out.InferenceId ?? '?'}); waiting up to ${Math.round(options.waitMs / 60000)} min for ${out.OutputLocation ?? 'the output'}.`);
  } catch (err) {
    throw explainAwsError(err, `Smoke test: queueing a request on ${endpointName}`);
  }
  if (!output) return { ok: true, detail: 'queued (no output location returned)' };
  const exists = async (loc?: { bucket: string; key: string }) => {
    if (!loc) return false;
    try {
      await s3.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key, ExpectedBucketOwner: options.expectedBucketOwner }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  };
  type Answer = 'output' | 'failure' | 'pending';
  let state: Answer;
  try {
    ({ value: state } = await poll<Answer>({
      check: async (): Promise<Answer> => ((await exists(output)) ? 'output' : (await exists(failure)) ? 'failure' : 'pending'),
      done: (s) => s !== 'pending',
      what: 'the async smoke test answer',
      initialDelayMs: 5000,
      maxDelayMs: 30000,
      timeoutMs: options.waitMs,
      signal: options.signal,
      ...options.pollOverrides,
    }));
  } catch (err) {
    if (isPollTimeout(err)) {
      reporter.warning(`Smoke test: no answer from ${endpointName} within ${Math.round(options.waitMs / 60000)} min (an endpoint at zero instances takes longer to start). The request stays queued; its answer will appear at s3://${output.bucket}/${output.key}.`, undefined, 'Smoke test pending');
      return { ok: true, detail: 'queued, no answer yet' };
    }
    throw explainAwsError(err, 'Smoke test: waiting for the async answer');
  }
  if (state === 'failure' && failure) {
    const obj = await s3.send(new GetObjectCommand({ Bucket: failure.bucket, Key: failure.key, ExpectedBucketOwner: options.expectedBucketOwner }));
    const text = obj.Body ? await obj.Body.transformToString() : '';
    throw new DeployError(`Smoke test: ${endpointName} failed the request: ${preview(text)}`, { title: 'Smoke test failed', hint: `See /aws/sagemaker/Endpoints/${endpointName} in CloudWatch Logs.` });
  }
  reporter.info(`Smoke test passed: answer written to s3://${output.bucket}/${output.key}.`);
  return { ok: true, detail: `answer at s3://${output.bucket}/${output.key}` };
}

export interface HttpSmokeOptions {
  url: string;
  smoke: SmokeTest;
  /** The API key (already registered with reporter.setSecret). */
  apiKey?: string;
  reporter: Reporter;
  fetchImpl?: typeof fetch;
}

/**
 * ec2/ecs: POST the payload to <url>/invocations (the gateway's SageMaker-style route) with the key,
 * and, when a key is required, prove that a request without it is refused.
 */
export async function smokeTestHttp(options: HttpSmokeOptions): Promise<SmokeResult> {
  const doFetch = options.fetchImpl ?? fetch;
  const url = `${options.url.replace(/\/+$/, '')}/invocations`;
  const body = payloadBytes(options.smoke);
  const call = async (key?: string) => {
    try {
      return await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': options.smoke.contentType, ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body,
        signal: AbortSignal.timeout(120_000),
      });
    } catch (err) {
      throw new DeployError(`Smoke test: could not reach ${url}: ${errorMessage(err)}`, {
        title: 'Smoke test failed',
        hint: 'Check the load balancer security group (security.allowedCidrs) and that the runner can reach it.',
      });
    }
  };
  if (options.apiKey) {
    const anonymous = await call();
    await anonymous.arrayBuffer();
    if (anonymous.status !== 401 && anonymous.status !== 403) {
      throw new DeployError(`Smoke test: ${url} answered ${anonymous.status} to a request WITHOUT an API key; it must refuse it (401).`, {
        title: 'API key not enforced',
        hint: 'The gateway is not enforcing the key: check that the API-key secret is injected (MODEL_DEPLOY_API_KEY_A/_B) and redeploy.',
      });
    }
  }
  const res = await call(options.apiKey);
  const text = await res.text();
  if (res.status !== options.smoke.expectStatus) {
    throw new DeployError(`Smoke test: ${url} answered ${res.status}, expected ${options.smoke.expectStatus}: ${preview(text)}`, {
      title: 'Smoke test failed',
      hint: 'The service is up but does not answer the smokeTest payload as expected: check the container logs and the payload format.',
    });
  }
  options.reporter.info(`Smoke test passed (${res.status}): ${preview(text)}`);
  return { ok: true, status: res.status, detail: preview(text) };
}

/** Reads the current API key from the deployment's secret, masking it before anything else. */
export async function readApiKey(
  secrets: import('@aws-sdk/client-secrets-manager').SecretsManagerClient,
  secretArn: string,
  reporter: Reporter,
): Promise<string> {
  try {
    const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' }));
    const raw = out.SecretString ?? '';
    reporter.setSecret(raw);
    let key: string | undefined;
    try {
      key = (JSON.parse(raw) as { apiKey?: string }).apiKey;
    } catch {
      key = undefined;
    }
    if (!key) throw new DeployError(`The API-key secret ${secretArn} holds no "apiKey" field.`, { hint: 'Run rotate-key to write a new key.' });
    reporter.setSecret(key);
    return key;
  } catch (err) {
    throw explainAwsError(err, 'Reading the API key for the smoke test');
  }
}
