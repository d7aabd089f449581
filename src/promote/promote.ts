/**
 * promote-model: an approved model moves from the source environment (dev) to a target environment's
 * account and regions, verified by digest. Everything the spec and inputs say is checked before the
 * first AWS call (plan.ts). The job runs as the target's promotion role (its own OIDC identity, after the
 * target environment's approval) and reads the source with the source account's read-only role, assumed
 * with the job's OIDC token; a local run with source-account credentials assumes the target role
 * (actors.ts). With no weights named, a Hugging Face model's weights are the ones build-model put in the
 * source's artifact bucket. The target's artifact bucket is created (hardened, versioned) when missing.
 * Regions run in parallel, each to its end; the image tag goes last, a failed region's message says what
 * it left in place, and a re-run finishes it (regions.ts).
 */
import type { RunContext } from '../core/action';
import type { Actor } from '../core/actor';
import { dnsSuffix } from '../core/aws';
import { settleLimit } from '../core/concurrency';
import { defaultSessionName, hasGitHubOidc } from '../core/credentials';
import { DeployError } from '../core/errors';
import { ImageRef, parseImageUri } from '../core/image-uri';
import { parseS3Location, S3Location, s3Url } from '../core/s3-location';
import { artifactBucketName } from '../config/names';
import type { Target } from '../config/select';
import { resolveActors, resolveSourceActor } from './actors';
import { callerIdentity } from '../core/identity';
import { checkBedrock, shareBedrockModel } from './bedrock-promotion';
import { imagesNewestFirst } from './ecr';
import { checkPlanMatches, FixedPlan, listSourceObjects, parseFixedPlan, PLAN_VERSION, planSummary, PlannedObject, readCustomModel, resolveDigest, SourceReader, verifyFixedPlan } from './fixed-plan';
import { resolveImage, sourceRegistry } from './image-promotion';
import { buildWeights, planPromotion, PromoteModelRequest, PromoteTarget, PromotionPlan } from './plan';
import type { Promotion, PromotionRun, PromoteResult } from './promotion';
import { provenanceProblem, ProvenancePolicy, ProvenanceRecord, readProvenance, RecordLocation, requireProvenance, requireWeightsProvenance, WeightsRecord, writeProvenance, writeWeightsProvenance } from './provenance-record';
import { finish, promoteRegion } from './regions';
import { checkTargets } from './target-checks';

/** Images of the repository looked at, newest first, for one with provenance when no image is named. */
const PROVENANCE_CANDIDATES = 20;

/** promote-model's one domain call: `target` is the target environment, selected with its regions. */
export async function promoteModel(target: PromoteTarget, request: PromoteModelRequest, run: RunContext): Promise<PromoteResult> {
  const fixed = request.fixedPlan !== undefined ? parseFixedPlan(request.fixedPlan) : undefined;
  const plan = fixed ? planFromFixed(target, request, fixed) : planPromotion(target, request);
  const who = promotionRun(run);
  const { sourceActor, targetActor } = await resolveActors(plan, who, run.reporter);
  const { deployment: d, source, target: to } = plan;
  run.reporter.info(`Promoting ${d.name} from ${source.name} (${source.env.account} ${source.region}) to ${to.name} (${to.env.account} ${to.regions.join(', ')}) as ${targetActor.principal}.`);
  const tuning = request.tuning ?? {};
  const p: Promotion = { plan, run: who, reporter: run.reporter, signal: run.signal, tuning, timeoutMs: request.timeoutMs ?? 120 * 60_000, sourceActor, targetActor };
  let ref: ImageRef | undefined;
  if (fixed) {
    // The approved job trusts nothing the plan job said without reading it again with the source's read-only role.
    const reader: SourceReader = { actor: sourceActor, account: source.env.account, region: source.region };
    await verifyFixedPlan(fixed, reader);
    if (request.provenance) await checkPlanProvenance(plan, fixed, sourceActor, request.provenance);
    p.plannedObjects = fixed.weights?.objects;
    ref = fixed.image ? { tag: fixed.image.tag, digest: fixed.image.digest } : undefined;
  }
  // What Bedrock would refuse is found before anything is shared, copied or bought.
  await checkBedrock(p);
  // A target that cannot take the copy (a bucket name another account owns, a disabled key) fails here, not halfway.
  await checkTargets(p);
  // Resolve the image once: every region gets the same digest.
  if (!fixed) {
    run.reporter.warning(`Promoting ${d.name} without a plan: the image and weights are whatever ${source.name} holds now, not what a reviewer saw. promote.yml fixes a plan before the approval (mode: plan, then mode: promote).`);
    ref = await resolveImage(p);
  }
  await shareBedrockModel(p);
  const settled = await settleLimit(to.regions, tuning.regionConcurrency ?? 4, (region) => promoteRegion(p, region, ref));
  return finish(p, settled);
}

/** The promotion a fixed plan describes: its image, weights and Bedrock model, nothing from other inputs. */
function planFromFixed(target: PromoteTarget, request: PromoteModelRequest, fixed: FixedPlan): PromotionPlan {
  const given = (['imageUri', 'modelDataUrl', 'bedrockModelArn'] as const).filter((k) => request[k]);
  if (given.length) {
    const names = { imageUri: 'image-uri', modelDataUrl: 'model-data-url', bedrockModelArn: 'bedrock-model-arn' };
    throw new DeployError(`input${given.length > 1 ? 's' : ''} ${given.map((k) => `\`${names[k]}\``).join(', ')} given with \`plan\`: the plan alone says what is promoted`, {
      title: 'Invalid input',
      hint: 'Give them to the plan job (mode: plan), which shows them to the reviewers, and only the plan to the promote job.',
    });
  }
  const { account, region } = fixed.source;
  const imageUri = fixed.image ? `${account}.dkr.ecr.${region}.${dnsSuffix(region)}/${fixed.image.repositoryName}${fixed.image.tag ? `:${fixed.image.tag}` : ''}@${fixed.image.digest}` : undefined;
  const plan = planPromotion(target, {
    ...request,
    sourceEnvironment: fixed.source.environment,
    sourceRegion: region,
    imageUri,
    modelDataUrl: fixed.weights ? s3Url({ bucket: fixed.weights.bucket, key: fixed.weights.prefix }) : undefined,
    bedrockModelArn: fixed.bedrockModelArn,
  });
  checkPlanMatches(fixed, plan);
  return plan;
}

/** Where the source's provenance records live: the source account's artifact bucket of the source region. */
function recordsAt(plan: PromotionPlan, actor: Actor): RecordLocation {
  const { source } = plan;
  return { actor, account: source.env.account, region: source.region, bucket: source.env.artifactBucket ?? artifactBucketName(source.env.account, source.region) };
}

/** The approved job checks provenance itself: the plan job's word for it is not proof. */
async function checkPlanProvenance(plan: PromotionPlan, fixed: FixedPlan, actor: Actor, policy: ProvenancePolicy): Promise<void> {
  const built = fixed.weights && isBuildWeights(plan, fixed.weights);
  if (fixed.image) await requireProvenance(recordsAt(plan, actor), { repositoryName: fixed.image.repositoryName, digest: fixed.image.digest, weights: built ? fixed.weights?.objects : undefined }, policy);
  // Weights we do not build: their own record, of exactly the planned versions.
  if (fixed.weights && !built) {
    const location = { bucket: fixed.weights.bucket, key: fixed.weights.prefix };
    await requireWeightsProvenance(recordsAt(plan, actor), { project: plan.deployment.project, deployment: plan.deployment.name, location, objects: fixed.weights.objects }, policy);
  }
}

/** Weights the build wrote (the deployment's model prefix in the source bucket): the image's record lists them. */
function isBuildWeights(plan: PromotionPlan, weights: { bucket: string; prefix: string }): boolean {
  const d = plan.deployment;
  const build = d.target === 'bedrock' ? undefined : buildWeights(d, plan.source.env, plan.source.region);
  return build?.bucket === weights.bucket && build.key === weights.prefix;
}

/**
 * promote-model mode: plan. Resolves, with the source's credentials only, exactly what the approved job will
 * promote: the image digest (the image named, or the newest one a protected ref built), the weights' keys,
 * version ids, ETags and checksums; checks their provenance; writes them to the run summary for the reviewers.
 */
export async function planModelPromotion(target: PromoteTarget, request: PromoteModelRequest, run: RunContext): Promise<FixedPlan> {
  const plan = planPromotion(target, request);
  const who = promotionRun(run);
  const actor = await resolveSourceActor(plan, who, run.reporter);
  const { source, deployment: d } = plan;
  const reader: SourceReader = { actor, account: source.env.account, region: source.region };
  const fixed: FixedPlan = { version: PLAN_VERSION, deployment: d.name, source: { environment: source.name, account: source.env.account, region: source.region } };
  let objects: PlannedObject[] | undefined;
  if (plan.modelData) {
    objects = await listSourceObjects(reader, plan.modelData);
    if (objects.length === 0) {
      throw new DeployError(`${s3Url(plan.modelData)} holds no objects.`, {
        title: 'Model data not found',
        hint: plan.modelDataFromBuild ? `These are the weights build-model uploads for ${d.name} in ${source.name}: run build-model there first, or give \`model-data-url\`.` : 'Check the `model-data-url` input.',
      });
    }
    fixed.weights = { bucket: plan.modelData.bucket, prefix: plan.modelData.key, objects };
  }
  const buildWeights = plan.modelDataFromBuild ? objects : undefined;
  if (plan.image) {
    const image = plan.image.ref
      ? await resolveDigest(reader, plan.image.repositoryName, plan.image.ref)
      : await newestWithProvenance(plan, actor, request.provenance, run);
    fixed.image = { repositoryName: plan.image.repositoryName, digest: image.digest, ...(image.tag ? { tag: image.tag } : {}) };
    if (request.provenance) {
      const { record, url } = await requireProvenance(recordsAt(plan, actor), { repositoryName: plan.image.repositoryName, digest: image.digest, weights: buildWeights }, request.provenance);
      fixed.provenance = { ref: record.ref, sha: record.sha, runId: record.runId, record: url };
    }
  }
  let weightsRecord = '';
  if (request.provenance && fixed.weights && objects && !plan.modelDataFromBuild) {
    // model.s3 or model-data-url: promotable only as a protected ref's run recorded them, version for version.
    const { record, url } = await requireWeightsProvenance(recordsAt(plan, actor), { project: d.project, deployment: d.name, location: plan.modelData!, objects }, request.provenance);
    weightsRecord = `Weights provenance: recorded by \`${record.ref}\` at \`${record.sha}\`, run ${record.runId} (record \`${url}\`).\n`;
  }
  if (plan.bedrockModelArn) {
    // The ARN is the reviewed spec's; the plan also pins what the ARN names now, and the approved job reads it again.
    const model = await readCustomModel(reader, plan.bedrockModelArn);
    if (!model) {
      throw new DeployError(`Bedrock custom model ${plan.bedrockModelArn} (deployments.${d.name}.model.bedrock) does not exist in ${source.env.account}.`, {
        location: plan.spec.locate(['deployments', d.name, 'model', 'bedrock']),
        title: 'Bedrock model not found',
        hint: 'Check model.bedrock against aws bedrock list-custom-models in the source account, and change it through a reviewed pull request.',
      });
    }
    fixed.bedrockModelArn = plan.bedrockModelArn;
    fixed.bedrockModel = model;
  }
  await run.reporter.summary(planSummary(fixed, plan.target.name) + weightsRecord);
  return fixed;
}

/**
 * No image named: the newest image of the repository that a protected ref built (its record checked), never
 * merely the newest pushed. Newer images without such a record are named, so a reviewer sees they were skipped.
 */
async function newestWithProvenance(plan: PromotionPlan, actor: Actor, policy: ProvenancePolicy | undefined, run: RunContext): Promise<{ digest: string; tag?: string }> {
  const repositoryName = plan.image!.repositoryName;
  if (!policy) {
    throw new DeployError('input `image-uri` is empty and provenance is not checked: the plan would pick the newest image pushed, which anyone who may push to the source repository decides', {
      title: 'Invalid input',
      hint: 'Give `image-uri` (a digest the reviewers can check), or plan with provenance (`protected-refs`) to pick the newest image a protected ref built.',
    });
  }
  const images = (await imagesNewestFirst(sourceRegistry(plan, actor, repositoryName))).slice(0, PROVENANCE_CANDIDATES);
  const skipped: string[] = [];
  for (const image of images) {
    const { record, url } = await readProvenance(recordsAt(plan, actor), repositoryName, image.digest);
    // Weights are checked against the chosen record afterwards, so an overwritten object is named, not skipped over.
    const problem = provenanceProblem(record, url, { repositoryName, digest: image.digest }, policy);
    if (!problem) {
      if (skipped.length) run.reporter.warning(`Skipped newer images without provenance from ${policy.protectedRefs.join(' or ')}: ${skipped.join('; ')}.`);
      return image;
    }
    skipped.push(`${repositoryName}${image.tag ? `:${image.tag}` : ''}@${image.digest} (${problem})`);
  }
  throw new DeployError(`No image of ${repositoryName} in ${plan.source.env.account} ${plan.source.region} was built by ${policy.protectedRefs.join(' or ')}${skipped.length ? `: ${skipped.slice(0, 3).join('; ')}` : ''}.`, {
    title: 'No provenance from the protected ref',
    hint: `Run the build on ${policy.protectedRefs[0]} (it records what it built), then plan again.`,
  });
}

/** The run as the runner describes it: the role session's name, the commit and run for provenance, an OIDC token. */
function promotionRun(run: RunContext): PromotionRun {
  const { env } = run;
  const runner = { GITHUB_RUN_ID: env.get('GITHUB_RUN_ID'), GITHUB_RUN_ATTEMPT: env.get('GITHUB_RUN_ATTEMPT'), GITHUB_REPOSITORY: env.repository };
  const oidc = { ACTIONS_ID_TOKEN_REQUEST_URL: env.get('ACTIONS_ID_TOKEN_REQUEST_URL'), ACTIONS_ID_TOKEN_REQUEST_TOKEN: env.get('ACTIONS_ID_TOKEN_REQUEST_TOKEN') };
  return {
    sessionName: defaultSessionName(runner).replace(/^model-deploy-/, 'promote-').slice(0, 64),
    commit: env.sha,
    runUrl: env.runUrl,
    hasOidcToken: hasGitHubOidc(oidc),
  };
}

/**
 * promote-model mode: record. Run by the build on the protected ref, as the recorder role only that ref's jobs
 * can assume (nothing else may write the records' prefix): records which ref, commit and run built this digest
 * and which weights (keys, versions, ETags, checksums) it wrote. Weights we do not build (the deployment's
 * model.s3, or `model-data-url` with no image) get a weights record of the exact versions the run found. With
 * neither an image nor such weights there is nothing to record. `target` is the environment built in.
 */
export async function recordModelProvenance(target: Target, request: { imageUri?: string; modelDataUrl?: string }, run: RunContext): Promise<string> {
  const { deployment: d, environment: env, environmentName } = target;
  const { env: runner } = run;
  const missing = ['GITHUB_REPOSITORY', 'GITHUB_REF', 'GITHUB_SHA', 'GITHUB_RUN_ID'].filter((n) => !runner.get(n));
  if (missing.length) throw new DeployError(`mode record needs the runner's ${missing.join(', ')}: it records which run built the image`, { title: 'Not in a GitHub job' });
  if (!env || !environmentName) throw new DeployError('mode record needs the environment the build ran in (`source-environment`)', { title: 'Invalid input' });
  const uri = request.imageUri ? parseImageUri(request.imageUri) : undefined;
  const given = request.modelDataUrl ? parseS3Location(request.modelDataUrl) : undefined;
  if (request.modelDataUrl && !given) throw new DeployError(`input \`model-data-url\` is "${request.modelDataUrl}", which is not an S3 URL`, { title: 'Invalid input' });
  // Weights we do not build: the model-data-url given without an image, else the deployment's model.s3.
  const notBuilt = (!request.imageUri ? given : undefined) ?? (d.model.s3 && !request.modelDataUrl ? parseS3Location(d.model.s3) : undefined);
  if (!request.imageUri) {
    if (!notBuilt) {
      run.reporter.info(`Nothing to record for ${d.name}: this run built no image, and the deployment has no model.s3 weights.`);
      return '';
    }
    return recordWeights(target, notBuilt, run, target.regions[0] ?? '');
  }
  if (!uri?.digest) {
    throw new DeployError(`input \`image-uri\` is "${request.imageUri ?? ''}": mode record needs the built image with its digest`, {
      title: 'Invalid input',
      hint: "Pass build-model's `image-uri` output (…@sha256:…).",
    });
  }
  if (uri.account !== env.account) throw new DeployError(`input \`image-uri\` is in account ${uri.account}, not ${environmentName}'s ${env.account}`, { title: 'Invalid input' });
  const region = uri.region;
  const identity = await callerIdentity({ region });
  const actor: Actor = { principal: identity.arn, account: identity.account };
  const reader: SourceReader = { actor, account: env.account, region };
  const image = await resolveDigest(reader, uri.repositoryName, { digest: uri.digest });
  const weightsAt = given ?? buildWeights(d, env, region);
  const objects = weightsAt ? await listSourceObjects(reader, weightsAt) : [];
  const record: ProvenanceRecord = {
    version: 1,
    repository: runner.get('GITHUB_REPOSITORY')!,
    ref: runner.get('GITHUB_REF')!,
    sha: runner.get('GITHUB_SHA')!,
    runId: runner.get('GITHUB_RUN_ID')!,
    ...(runner.get('GITHUB_WORKFLOW_REF') ? { workflowRef: runner.get('GITHUB_WORKFLOW_REF') } : {}),
    image: { repositoryName: uri.repositoryName, digest: image.digest },
    ...(weightsAt && objects.length ? { weights: { bucket: weightsAt.bucket, prefix: weightsAt.key, objects } } : {}),
  };
  const url = await writeProvenance({ actor, account: env.account, region, bucket: env.artifactBucket ?? artifactBucketName(env.account, region) }, record);
  run.reporter.info(`Recorded ${uri.repositoryName}@${image.digest} as built by ${record.repository} ${record.ref} at ${record.sha} (run ${record.runId}), with ${objects.length} weight object(s): ${url}`);
  if (notBuilt) await recordWeights(target, notBuilt, run, region);
  return url;
}

/** The weights record of `location` as this run finds it now (every object's version, ETag, size and SHA-256). */
async function recordWeights(target: Target, location: S3Location, run: RunContext, region: string): Promise<string> {
  const { deployment: d, environment: env } = target;
  const { env: runner } = run;
  if (!env || !region) throw new DeployError('mode record needs the environment the build ran in (`source-environment`) and its region', { title: 'Invalid input' });
  const identity = await callerIdentity({ region });
  const actor: Actor = { principal: identity.arn, account: identity.account };
  const objects = await listSourceObjects({ actor, account: env.account, region }, location);
  if (objects.length === 0) throw new DeployError(`${s3Url(location)} holds no objects: there are no weights to record.`, { title: 'Model data not found', location: d.source });
  const record: WeightsRecord = {
    version: 1,
    kind: 'weights',
    repository: runner.get('GITHUB_REPOSITORY')!,
    ref: runner.get('GITHUB_REF')!,
    sha: runner.get('GITHUB_SHA')!,
    runId: runner.get('GITHUB_RUN_ID')!,
    ...(runner.get('GITHUB_WORKFLOW_REF') ? { workflowRef: runner.get('GITHUB_WORKFLOW_REF') } : {}),
    deployment: d.name,
    weights: { bucket: location.bucket, prefix: location.key, objects },
  };
  const url = await writeWeightsProvenance({ actor, account: env.account, region, bucket: env.artifactBucket ?? artifactBucketName(env.account, region) }, d.project, record);
  run.reporter.info(`Recorded the weights ${s3Url(location)} (${objects.length} object(s), by version) as found by ${record.repository} ${record.ref} at ${record.sha} (run ${record.runId}): ${url}`);
  return url;
}
