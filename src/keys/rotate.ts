/**
 * API-key rotation from CI: the Secrets Manager rotation protocol without a Lambda.
 *   createSecret  PutSecretValue [AWSPENDING] with a ClientRequestToken derived from the run (re-runs are harmless;
 *                 after a rollback the run moves on to a fresh token), the previous key's expiry stored with the key
 *   setSecret     MD_SERVE_B → pending (MD_SERVE_A → current once the previous key's grace is over), reload servers
 *   testSecret    pending key accepted, current key still accepted, a wrong key refused with 401
 *   finishSecret  AWSCURRENT → pending (AWSPREVIOUS follows), AWSPENDING removed
 * Any failure before AWSCURRENT moves rolls back: MD_SERVE_B back on the current version, servers reloaded,
 * AWSPENDING removed. MD_SERVE_A keeps the previous key until its stored expiry; a refresh-only run after
 * that time retires it (the workflow schedules refresh-only hourly, so it lives at most an hour longer).
 */
import { sha256Hex } from '../core/hash';
import { randomUUID } from 'crypto';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, errorMessage, errorName, explainAwsError } from '../core/errors';
import type { RunContext } from '../core/action';
import type { Target } from '../config/select';
import type { Reporter } from '../core/log';
import type { Deployment, EnvironmentSpec } from '../config/types';
import { checkEndpointUrlInput, DEFAULT_PROBE_PAYLOAD, KeyExpectation, probeKeys, ProbeOptions, probeUrl, wrongKey } from './probe';
import { ensureApiKeySecret, keySecretString, newApiKey } from './secret';
import { resolveServing, ServingSide } from './serving';
import { checkOwnership, CURRENT, describeKeySecret, KeyValue, moveLabel, PENDING, readKey, SecretState, SERVE_A, SERVE_B } from './state';
import { SecretsManagerClient, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describeStack } from '../core/stack';
import { refuseBusyStack } from '../core/stack-busy';

export type RotateMode = 'rotate' | 'refresh' | 'create-only';
export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret' | 'retirePrevious' | 'refresh';

/** One region's rotation, private to this file: the target, request and run context as the steps use them. */
interface RegionRotation {
  deployment: Deployment;
  environmentName?: string;
  environment?: EnvironmentSpec;
  /** The target's names: the key's secret, and the stack that serves it. */
  secretName: string;
  stackName: string;
  region: string;
  credentials?: Credentials;
  reporter: Reporter;
  signal?: AbortSignal;
  mode: RotateMode;
  gracePeriodHours: number;
  /**
   * gracePeriodHours came from the input, not the spec's default: it may end a previous key's stored
   * grace early (after a leak). Otherwise the expiry stored by the rotation decides.
   */
  gracePeriodFromInput?: boolean;
  /** Default: the stack's URL output. */
  endpointUrl?: string;
  timeoutMs: number;
  /** Names this run ("acme/models#4242"): the ClientRequestToken is derived from it, so a re-run reuses it. */
  runId?: string;
  now?: () => Date;
  pollIntervalMs?: number;
  probe?: Pick<ProbeOptions, 'retries' | 'retryDelayMs' | 'rounds' | 'timeoutMs'>;
}

export interface RotateResult {
  region: string;
  secretArn: string;
  /** The version holding AWSCURRENT at the end. */
  versionId: string;
  created: boolean;
  rotated: boolean;
  previousRetired: boolean;
  /** What happened, in words, for the summary. No key in here. */
  log: string[];
}

/** A UUID-shaped token (32-64 chars) that is the same for every attempt of one run on one secret. */
export function rotationToken(secretArn: string, runId?: string): string {
  if (!runId) return randomUUID();
  const h = sha256Hex(`${secretArn}|${runId}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * This run's token on this secret. A version that exists without any label was rolled back: its token
 * cannot be used again with a new key (PutSecretValue refuses another value), so the run moves on to the
 * next token of its chain. A labelled version of the chain is this run's own (current, or pending to resume).
 */
export function runToken(state: Pick<SecretState, 'arn' | 'stages' | 'created'>, runId?: string): string {
  if (!runId) return randomUUID();
  for (let n = 0; ; n++) {
    const token = rotationToken(state.arn, n === 0 ? runId : `${runId}#fresh-${n}`);
    const rolledBack = token in state.created && !state.stages[token]?.length;
    if (!rolledBack) return token;
  }
}

/** What rotate-key asks for, beyond the target. */
export interface RotateRequest {
  mode: RotateMode;
  /** Default: apiKey.gracePeriodHours from the spec. */
  gracePeriodHours?: number;
  endpointUrl?: string;
  timeoutMinutes: number;
  /** Seams for tests: credentials, the clock, the serving side's poll interval, the key probe's patience. */
  credentials?: Credentials;
  now?: () => Date;
  pollIntervalMs?: number;
  probe?: Pick<ProbeOptions, 'retries' | 'retryDelayMs' | 'rounds' | 'timeoutMs'>;
}

/** Either the region results, or why the deployment has no API key to rotate. */
export type RotateOutcome = { skipped: string } | { results: RotateResult[]; gracePeriodHours: number };

/** rotate-key's one domain call: the key of the target in each of its regions, one after the other. */
export async function rotateKeys(target: Target, request: RotateRequest, run: RunContext): Promise<RotateOutcome> {
  const { deployment: d, environmentName, environment, regions, names } = target;
  if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') {
    return { skipped: `${d.name} is a ${d.target} endpoint: it is called with IAM-signed (SigV4) requests, so there is no API key to rotate.` };
  }
  if (!d.apiKey.enabled) return { skipped: `${d.name} has apiKey.enabled: false: there is no API key to rotate.` };
  if (request.endpointUrl && regions.length > 1) {
    throw new DeployError('input `endpoint-url` names one endpoint, but the deployment serves several regions: set `region` too', { title: 'Invalid input' });
  }
  // Both keys go to this URL: its form is checked before any call, its host against the stack before any change.
  if (request.endpointUrl) checkEndpointUrlInput(request.endpointUrl);
  const gracePeriodHours = request.gracePeriodHours ?? d.apiKey.gracePeriodHours;
  const runId = run.env.get('GITHUB_RUN_ID') ? `${run.env.repository ?? ''}#${run.env.get('GITHUB_RUN_ID')}` : undefined;
  const verb = request.mode === 'rotate' ? 'Rotating' : request.mode === 'refresh' ? 'Refreshing' : 'Creating';
  const results: RotateResult[] = [];
  for (const region of regions) {
    const r = await run.reporter.group(`${verb} the API key of ${d.name} in ${region}`, () =>
      rotateRegion({
        deployment: d, environmentName, environment, secretName: names.apiKeySecret, stackName: names.stack, region, credentials: request.credentials,
        reporter: run.reporter, signal: run.signal, mode: request.mode, gracePeriodHours, gracePeriodFromInput: request.gracePeriodHours !== undefined,
        endpointUrl: request.endpointUrl, timeoutMs: request.timeoutMinutes * 60_000, runId, now: request.now, pollIntervalMs: request.pollIntervalMs, probe: request.probe,
      }),
    );
    results.push(r);
  }
  return { results, gracePeriodHours };
}

/** One region's run: the client, the secret's name, and the log of what happened. */
interface RunState {
  o: RegionRotation;
  sm: SecretsManagerClient;
  name: string;
  log: string[];
  note: (line: string) => void;
  now: () => Date;
}

/** Everything the rotation steps share once the secret and the serving side are known. */
interface StepContext {
  o: RegionRotation;
  sm: SecretsManagerClient;
  state: SecretState;
  serving: ServingSide;
  current: string;
  note: (line: string) => void;
}

/** The current key, its grace period, and how to probe the endpoint. */
interface Prepared {
  ctx: StepContext;
  currentKey: string;
  graceEnds: Date;
  previousInGrace: boolean;
  probe: ProbeOptions;
}

async function rotateRegion(o: RegionRotation): Promise<RotateResult> {
  const run = startRun(o);
  const state = await describeKeySecret(run.sm, run.name);
  if (!state || o.mode === 'create-only') return createOrKeep(run, state);
  checkOwnership(state, o.deployment, o.environmentName);
  const token = runToken(state, o.runId);
  if (o.runId && token !== rotationToken(state.arn, o.runId) && !(token in state.created)) {
    run.note(`This run's earlier rotation was rolled back; starting a fresh one (version ${token}).`);
  }
  if (o.mode === 'rotate' && state.stages[token] && !state.stages[token].includes(PENDING)) {
    run.note(`This run already rotated the key (version ${token}); nothing to do.`);
    return result(run, state, { rotated: state.current === token, versionId: state.current ?? token });
  }
  // The stack and the URL the keys will be sent to are checked before the first change, even a repair.
  // A stack CloudFormation is still changing (a cancelled deploy's rollback) gets no service redeploy.
  refuseBusyStack(await describeStack(awsClient(CloudFormationClient, { region: o.region, credentials: o.credentials }), o.stackName), o.stackName, o.region, 'rotate-key');
  const serving = await resolveServing({ ...o, timeoutMs: o.timeoutMs });
  const url = probeUrl(o.endpointUrl, serving.endpointUrl, o.stackName);
  const repaired = await finishInterruptedFinish(run, state);
  const foreignPending = refuseLivePending(run, repaired, token);
  const prepared = await prepare(run, repaired, serving, url);
  if (o.mode === 'refresh' || prepared.previousInGrace) return refreshOrRefuse(run, prepared, foreignPending);
  return rotate(run, prepared, token);
}

function startRun(o: RegionRotation): RunState {
  const log: string[] = [];
  return {
    o,
    sm: awsClient(SecretsManagerClient, { region: o.region, credentials: o.credentials }),
    name: o.secretName,
    log,
    note: (line) => {
      log.push(line);
      o.reporter.info(line);
    },
    now: () => o.now?.() ?? new Date(),
  };
}

function result(run: RunState, state: SecretState, extra: Partial<RotateResult>): RotateResult {
  return { region: run.o.region, secretArn: state.arn, versionId: state.current ?? '', created: false, rotated: false, previousRetired: false, log: run.log, ...extra };
}

async function readState(run: RunState): Promise<SecretState> {
  const state = await describeKeySecret(run.sm, run.name);
  if (!state) throw new DeployError(`secret ${run.name} disappeared while rotate-key was working on it`, { title: 'Secret missing' });
  return state;
}

/** No secret yet (or create-only): make one; a new secret has nothing to rotate. */
async function createOrKeep(run: RunState, existing: SecretState | undefined): Promise<RotateResult> {
  const { o } = run;
  if (existing) checkOwnership(existing, o.deployment, o.environmentName);
  const { created } = await ensureApiKeySecret({ ...o });
  const state = await readState(run);
  run.note(created ? `Created secret ${state.arn} with a new key (a new secret has nothing to rotate).` : `Secret ${state.arn} exists; create-only leaves its key as it is.`);
  return result(run, state, { created });
}

/** finishSecret was interrupted after AWSCURRENT moved: only the AWSPENDING label is left to remove. */
async function finishInterruptedFinish(run: RunState, state: SecretState): Promise<SecretState> {
  if (!state.pending || state.pending !== state.current) return state;
  await moveLabel(run.sm, state.arn, PENDING, undefined, state.pending);
  run.note(`Finished an interrupted rotation: removed ${PENDING} from the current version ${state.current}.`);
  return readState(run);
}

/** Another run's pending version: refused while that run may still be working, returned once it is stale. */
function refuseLivePending(run: RunState, state: SecretState, token: string): string | undefined {
  const foreignPending = state.pending && state.pending !== token ? state.pending : undefined;
  if (!foreignPending) return undefined;
  const staleAfterMs = 2 * run.o.timeoutMs;
  const started = state.created[foreignPending];
  if (started && run.now().getTime() - started.getTime() < staleAfterMs) {
    throw new DeployError(`a rotation of ${state.name} by another run is in progress: version ${foreignPending} holds ${PENDING} since ${started.toISOString()}`, {
      title: 'Rotation already pending',
      hint: `Nothing was changed. Two rotations must never interleave (the rotate-key workflow's concurrency group serialises them). If that run died, a run after ${new Date(started.getTime() + staleAfterMs).toISOString()} finishes or undoes it.`,
    });
  }
  return foreignPending;
}

/** Before any change: a URL to test the keys against (the stack exists: see probeUrl); the current key and its grace period. */
async function prepare(run: RunState, state: SecretState, serving: ServingSide, url: string | undefined): Promise<Prepared> {
  const { o, sm } = run;
  if (!url) {
    throw new DeployError(`cannot find the URL of ${serving.describe} to test the keys against`, {
      title: 'No endpoint URL',
      hint: 'Nothing was changed. Pass the `endpoint-url` input (the endpoint-url output of deploy-endpoint).',
    });
  }
  if (!state.current) throw new DeployError(`secret ${state.name} has no ${CURRENT} version`, { title: 'Broken secret' });
  const current = state.current;
  const currentKey = await readKey(sm, state.arn, current, o.reporter);
  const graceEnds = graceEnd(o, currentKey, state.created[current]);
  const probe: ProbeOptions = {
    url,
    payload: o.deployment.smokeTest?.payload ?? DEFAULT_PROBE_PAYLOAD,
    contentType: o.deployment.smokeTest?.contentType ?? 'application/json',
    signal: o.signal,
    ...o.probe,
  };
  return {
    ctx: { o, sm, state, serving, current, note: run.note },
    currentKey: currentKey.apiKey,
    graceEnds,
    previousInGrace: state.serveA !== undefined && state.serveA !== current && run.now() < graceEnds,
    probe,
  };
}

/** When the previous key stops being accepted: the expiry its rotation stored, or (older keys) the creation time plus the grace period. */
function graceEnd(o: RegionRotation, currentKey: KeyValue, versionCreated: Date | undefined): Date {
  const rotatedAt = currentKey.createdAt ? new Date(currentKey.createdAt) : versionCreated ?? new Date(0);
  const fromThisRun = new Date(rotatedAt.getTime() + o.gracePeriodHours * 3600_000);
  if (!currentKey.previousExpiresAt) return fromThisRun;
  const stored = new Date(currentKey.previousExpiresAt);
  return o.gracePeriodFromInput && fromThisRun < stored ? fromThisRun : stored;
}

/** refresh-only, or a rotation blocked by the grace period: undo what was left over; refresh, or refuse to rotate. */
async function refreshOrRefuse(run: RunState, p: Prepared, foreignPending: string | undefined): Promise<RotateResult> {
  const { o } = run;
  const { ctx } = p;
  // refresh-only never finishes a rotation; a rotation blocked by the grace period cannot finish one either.
  const leftOver = o.mode === 'refresh' ? ctx.state.pending : foreignPending;
  if (leftOver) {
    await undo(ctx, leftOver, 'an interrupted rotation');
    ctx.state = await readState(run);
  }
  if (o.mode === 'rotate') {
    throw new DeployError(
      `the previous key of ${ctx.state.name} still works until ${p.graceEnds.toISOString()} (grace period ${o.gracePeriodHours} h since the last rotation); rotating now would stop it early`,
      {
        title: 'Previous key still in its grace period',
        hint: `${leftOver ? 'Only the interrupted rotation was undone. ' : 'Nothing was changed. '}Rotate after ${p.graceEnds.toISOString()}, or set grace-period-hours: 0 to end the grace period now (e.g. after a leak).`,
      },
    );
  }
  return result(run, ctx.state, { previousRetired: await refresh(ctx, p.previousInGrace, p.probe, p.currentKey) });
}

/** createSecret, setSecret, testSecret, finishSecret; then the previous key retired at once when the grace period is 0. */
async function rotate(run: RunState, p: Prepared, token: string): Promise<RotateResult> {
  const { ctx } = p;
  const pending = await createPending(run, ctx.state, token);
  await setTestFinish(p, pending);
  run.note(`finishSecret: version ${pending.version} is ${CURRENT}; version ${ctx.current} is AWSPREVIOUS and keeps working until the grace period ends.`);
  try {
    await moveLabel(run.sm, ctx.state.arn, PENDING, undefined, pending.version);
  } catch (err) {
    run.o.reporter.warning(`The new key is current, but ${PENDING} could not be removed from it (${errorMessage(err)}); the next run removes it.`);
  }
  const previousRetired = run.o.gracePeriodHours === 0 ? await retirePrevious(p, pending) : false;
  return { region: run.o.region, secretArn: ctx.state.arn, versionId: pending.version, created: false, rotated: true, previousRetired, log: run.log };
}

interface PendingKey {
  version: string;
  key: string;
}

/** createSecret: the pending version of this run (or of an interrupted one, to finish), or a new one. */
async function createPending(run: RunState, state: SecretState, token: string): Promise<PendingKey> {
  const { sm, o } = run;
  if (state.pending) {
    const version = state.pending;
    const key = (await readKey(sm, state.arn, version, o.reporter)).apiKey;
    run.note(
      state.pending === token
        ? `Resuming this run's rotation: version ${version} is ${PENDING}.`
        : `Finishing an interrupted rotation: version ${version} has been ${PENDING} since ${state.created[version]?.toISOString()}.`,
    );
    return { version, key };
  }
  const key = await newApiKey(sm, o.reporter);
  const version = await putPending(sm, state.arn, token, keySecretString(key, run.now(), o.gracePeriodHours));
  run.note(`createSecret: version ${version} created as ${PENDING}.`);
  return { version, key };
}

/** setSecret, testSecret and finishSecret; any failure before AWSCURRENT moves rolls back. */
async function setTestFinish(p: Prepared, pending: PendingKey): Promise<void> {
  const { ctx, probe, currentKey } = p;
  const { o, sm, state, serving, current, note } = ctx;
  let step: RotationStep = 'setSecret';
  let bMoved = state.serveB === pending.version;
  let reloadStarted = false;
  try {
    if (state.serveA !== current) {
      await moveLabel(sm, state.arn, SERVE_A, current, state.serveA);
      note(`setSecret: grace period of the previous key is over: ${SERVE_A} moved to the current version ${current}.`);
    }
    await moveLabel(sm, state.arn, SERVE_B, pending.version, state.serveB);
    bMoved = true;
    reloadStarted = true;
    await serving.reload(`accept pending version ${pending.version} next to current ${current}`);
    note(`setSecret: ${serving.describe} accept the current and the pending key.`);

    step = 'testSecret';
    const wrong = wrongKey();
    o.reporter.setSecret(wrong);
    const lines = await probeKeys(probe, [
      { label: 'the pending key', key: pending.key, accepted: true },
      { label: 'the current key', key: currentKey, accepted: true },
      { label: 'a wrong key', key: wrong, accepted: false },
    ]);
    for (const l of lines) note(`testSecret: ${l}`);

    step = 'finishSecret';
    await moveLabel(sm, state.arn, CURRENT, pending.version, current);
  } catch (err) {
    throw await rollBack(ctx, step, err, pending.version, bMoved, reloadStarted);
  }
}

/** Grace period 0: the previous key stops working now, and the probe proves it. */
async function retirePrevious(p: Prepared, pending: PendingKey): Promise<boolean> {
  const { ctx, probe, currentKey: previousKey } = p;
  const { sm, state, serving, current, note } = ctx;
  try {
    await moveLabel(sm, state.arn, SERVE_A, pending.version, current);
    await serving.reload(`grace period 0: stop accepting version ${current}`);
    const lines = await probeKeys(probe, [
      { label: 'the new key', key: pending.key, accepted: true },
      { label: 'the previous key', key: previousKey, accepted: false },
    ]);
    for (const l of lines) note(`retirePrevious: ${l}`);
    return true;
  } catch (err) {
    throw new DeployError(`API-key rotation of ${state.name} succeeded, but retiring the previous key failed at step retirePrevious: ${errorMessage(err)}`, {
      cause: err,
      title: 'Previous key not retired',
      hint: 'The new key is current and works. The previous key may still be accepted: run rotate-key with refresh-only: true and grace-period-hours: 0 to retire it.',
    });
  }
}

async function putPending(sm: SecretsManagerClient, arn: string, token: string, secretString: string): Promise<string> {
  try {
    const out = await sm.send(new PutSecretValueCommand({ SecretId: arn, ClientRequestToken: token, SecretString: secretString, VersionStages: [PENDING] }));
    return out.VersionId ?? token;
  } catch (err) {
    if (errorName(err) === 'ResourceExistsException') {
      throw new DeployError(`version ${token} of ${arn} already exists with another value (a re-run of this run raced with itself)`, {
        cause: err,
        title: 'Rotation step createSecret failed',
        hint: 'Nothing was changed. Run rotate-key again: it resumes from the existing version.',
      });
    }
    throw explainAwsError(err, `createSecret: storing the pending key of ${arn}`);
  }
}

/** Undoes a pending version: MD_SERVE_B back on the current version, servers reloaded, AWSPENDING removed. */
async function undo(ctx: StepContext, pending: string, what: string): Promise<string[]> {
  const { o, sm, state, serving, current } = ctx;
  const problems: string[] = [];
  const bOnPending = state.serveB === pending;
  if (bOnPending) {
    try {
      await moveLabel(sm, state.arn, SERVE_B, current, pending);
    } catch (err) {
      problems.push(errorMessage(err));
    }
    try {
      await serving.reload(`undo ${what}: stop accepting version ${pending}`);
    } catch (err) {
      problems.push(`reloading ${serving.describe}: ${errorMessage(err)}`);
    }
  }
  try {
    await moveLabel(sm, state.arn, PENDING, undefined, pending);
  } catch (err) {
    problems.push(errorMessage(err));
  }
  if (!problems.length) ctx.note(`Undid ${what}: ${PENDING} removed from version ${pending}${bOnPending ? `, ${SERVE_B} back on ${current}` : ''}.`);
  else o.reporter.warning(`Undoing ${what} was incomplete: ${problems.join('; ')}`);
  return problems;
}

async function rollBack(ctx: StepContext, step: RotationStep, err: unknown, newVersion: string, bMoved: boolean, reloadStarted: boolean): Promise<DeployError> {
  const cause = err instanceof DeployError ? err.describe() : errorMessage(err);
  ctx.o.reporter.warning(`Rotation failed at ${step}; rolling back.`);
  const state = { ...ctx.state, serveB: bMoved ? newVersion : ctx.state.serveB };
  // A reload that started may have made servers accept the pending key even if B never moved back.
  const problems = await undo({ ...ctx, state }, newVersion, 'the failed rotation');
  if (reloadStarted && !bMoved) {
    try {
      await ctx.serving.reload('rollback');
    } catch (e) {
      problems.push(errorMessage(e));
    }
  }
  const where = `API-key rotation of ${ctx.state.name} failed at step ${step}: ${cause}`;
  if (problems.length) {
    return new DeployError(`${where}\nThe rollback was incomplete: ${problems.join('; ')}`, {
      cause: err,
      title: `Rotation failed at ${step}`,
      hint: `The current key (version ${ctx.current}) was never replaced. The next rotate-key run finishes the rollback.`,
    });
  }
  return new DeployError(where, {
    cause: err,
    title: `Rotation failed at ${step}`,
    hint: `Rolled back: ${PENDING} removed, ${SERVE_B} back on the current version ${ctx.current}, servers reloaded. The current key keeps working.`,
  });
}

/** refresh-only: end an expired grace period and repair labels; no new key. Returns true when a key was retired. */
async function refresh(ctx: StepContext, previousInGrace: boolean, probe: ProbeOptions, currentKey: string): Promise<boolean> {
  const { o, sm, state, serving, current } = ctx;
  const retiring = state.serveA !== current && !previousInGrace ? state.serveA : undefined;
  const retiredKey = retiring ? (await readKey(sm, state.arn, retiring, o.reporter)).apiKey : undefined;
  let changed = false;
  if (state.serveA !== current && !previousInGrace) {
    await moveLabel(sm, state.arn, SERVE_A, current, state.serveA);
    changed = true;
  }
  if (state.serveB !== current && !(state.pending && state.serveB === state.pending)) {
    await moveLabel(sm, state.arn, SERVE_B, current, state.serveB);
    changed = true;
  }
  if (!changed) {
    ctx.note(previousInGrace ? `The previous key stays accepted until its grace period ends; nothing to refresh.` : 'The serving labels already point at the current key; nothing to refresh.');
    return false;
  }
  try {
    await serving.reload('refresh: serve only the current key');
    const wrong = wrongKey();
    o.reporter.setSecret(wrong);
    const expectations: KeyExpectation[] = [
      { label: 'the current key', key: currentKey, accepted: true },
      { label: 'a wrong key', key: wrong, accepted: false },
    ];
    if (retiredKey) expectations.push({ label: 'the retired key', key: retiredKey, accepted: false });
    for (const l of await probeKeys(probe, expectations)) ctx.note(`refresh: ${l}`);
  } catch (err) {
    throw new DeployError(`refreshing the keys of ${state.name} failed at step refresh: ${err instanceof DeployError ? err.describe() : errorMessage(err)}`, {
      cause: err,
      title: 'Refresh failed',
      hint: 'The labels point at the current key only; the current key works everywhere it worked before. Run again once the serving side is healthy.',
    });
  }
  ctx.note(retiring ? `refresh: version ${retiring} is no longer accepted (${SERVE_A} moved to ${current}).` : 'refresh: labels repaired.');
  return Boolean(retiring);
}
