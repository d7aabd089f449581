/**
 * The Bedrock custom model of a promotion: its prerequisites checked with each side's credentials (and what a
 * throughput purchase commits to, said), the RAM share across accounts, then the copy into each target region
 * and, when asked, its provisioned throughput.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { RAMClient } from '@aws-sdk/client-ram';
import { awsClient } from '../core/aws';
import { ownershipTags } from '../config/names';
import { bedrockThroughputTargets } from '../config/regions';
import { checkBedrockPrerequisites, copyModel, organizationOf, parseBedrockModelArn, shareModel, targetModelName } from './bedrock';
import { kmsKeyIn } from './kms-key';
import type { Promotion, TargetResult } from './promotion';
import { provenanceTags } from './provenance';
import { describeCommitment, provisionThroughput } from './throughput';

/** What Bedrock would refuse, found before anything is shared, copied or bought; then what a throughput purchase commits to. */
export async function checkBedrock(p: Promotion): Promise<void> {
  const { plan, sourceActor, targetActor, reporter } = p;
  const modelArn = plan.bedrockModelArn;
  if (!modelArn) return;
  const modelRegion = parseBedrockModelArn(modelArn)?.region ?? plan.source.region;
  await checkBedrockPrerequisites({
    sourceModelArn: modelArn,
    source: { actor: sourceActor, organization: organizationOf(sourceActor, modelRegion), bedrock: awsClient(BedrockClient, { region: modelRegion, credentials: sourceActor.credentials }) },
    target: {
      actor: targetActor,
      organization: organizationOf(targetActor, modelRegion),
      regions: plan.target.regions,
      bedrockIn: (region) => awsClient(BedrockClient, { region, credentials: targetActor.credentials }),
    },
    reporter,
  });
  const pt = plan.provisionedThroughput;
  const own = plan.deployment.bedrockThroughput;
  if (!pt && own) {
    const where = bedrockThroughputTargets(plan.deployment, plan.spec.environments).map((t) => t.environment);
    reporter.info(`deployments.${plan.deployment.name}.bedrockThroughput is bought in ${where.join(', ')}, not in ${plan.target.name}: this promotion buys no provisioned throughput.`);
  }
  if (pt) {
    reporter.warning(
      `After the copy, promote-model buys ${describeCommitment(pt)} in each of ${plan.target.regions.join(', ')} (account ${plan.target.env.account}; set by ${pt.from}).`,
      undefined,
      'Provisioned throughput is billed',
    );
  }
}

/** Across accounts, a Bedrock custom model is shared through RAM before the target copies it. */
export async function shareBedrockModel(p: Promotion): Promise<void> {
  const { plan, run, sourceActor, targetActor } = p;
  const { deployment: d, source, target } = plan;
  const modelArn = plan.bedrockModelArn;
  if (!modelArn || source.env.account === target.env.account) return;
  const modelRegion = parseBedrockModelArn(modelArn)?.region ?? source.region;
  const shareArn = await shareModel({
    ram: awsClient(RAMClient, { region: modelRegion, credentials: sourceActor.credentials }),
    actor: sourceActor,
    shareName: `model-deploy-${d.project}-${d.name}-${target.name}`.slice(0, 128),
    modelArn,
    targetAccount: target.env.account,
    tags: { ...ownershipTags(d, target.name), ...provenanceTags(plan, run) },
    targetRam: awsClient(RAMClient, { region: modelRegion, credentials: targetActor.credentials }),
    targetActor,
  });
  p.reporter.info(`Shared ${modelArn} with ${target.env.account} (${shareArn}).`);
}

/** The Bedrock model into one region, then (when asked) its provisioned throughput. */
export async function copyBedrockModel(p: Promotion, region: string, sourceModelArn: string, r: TargetResult): Promise<void> {
  const { plan, run, targetActor, tuning } = p;
  const { deployment: d, target } = plan;
  const bedrock = awsClient(BedrockClient, { region, credentials: targetActor.credentials });
  const name = targetModelName(`${d.project}-${d.name}`, sourceModelArn);
  const tags = { ...ownershipTags(d, target.name), ...provenanceTags(plan, run) };
  // The copy and the throughput purchase: same client, account, region, tags and waiting.
  const common = {
    bedrock,
    actor: targetActor,
    region,
    tags,
    timeoutMs: p.timeoutMs,
    initialDelayMs: tuning.pollInitialDelayMs,
    maxDelayMs: tuning.pollMaxDelayMs,
    signal: p.signal,
    reporter: p.reporter,
  };
  const copied = await copyModel({ ...common, sourceModelArn, targetModelName: name, kmsKeyId: kmsKeyIn(target.env.kmsKeyId, region) });
  r.modelArn = copied.modelArn;
  const pt = plan.provisionedThroughput;
  if (!pt) return;
  const provisioned = await provisionThroughput({ ...common, modelUnits: pt.modelUnits, commitment: pt.commitment, modelArn: copied.modelArn, name });
  r.provisionedModelArn = provisioned.provisionedModelArn;
}
