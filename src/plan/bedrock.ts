/**
 * The plan of a `target: bedrock` deployment: the custom model promote-model copies (its ARN, account, region and
 * base model), where the copies go in the planned environment (regions and the KMS key of each), the provisioned
 * throughput bought there, and the region truth: the model's partition against every copy region, the key's
 * region (both refused when the spec loads), and whether each region offers the base model with provisioned throughput (no offline table: said
 * "not checked"; promote-model asks Bedrock before it copies).
 */
import { parseBedrockModelArn } from '../config/bedrock';
import { kmsKeyIn } from '../config/region-truth';
import { bedrockThroughputTargets, regionsFor } from '../config/regions';
import type { BedrockDeployment, EnvironmentSpec, Spec } from '../config/types';
import { partitionOf } from '../core/aws';
import { DeployError } from '../core/errors';
import type { PlanPart } from '../core/plan-part';

/** What the plan file of a Bedrock deployment holds (`<name>/bedrock.json`). */
export interface BedrockPlan {
  deployment: string;
  target: 'bedrock';
  model: { arn: string; account: string; region: string; partition: string; baseModel?: string; sourceEnvironment: string };
  /** The planned environment; `role: source` when it holds the model (nothing is copied into it). */
  environment?: { name: string; account: string; role: 'source' | 'target' };
  copies: { region: string; kmsKeyId?: string }[];
  provisionedThroughput?: { modelUnits: number; commitment: string; regions: string[] };
  checks: { partition: string; kmsKey: string; baseModelOffered: string };
}

const NOT_CHECKED = 'not checked offline (no table of the regions that offer each base model with provisioned throughput): promote-model asks Bedrock (GetFoundationModel) in each region before it copies';

/** The plan of one Bedrock deployment in the planned environment. */
export function planBedrock(spec: Spec, b: BedrockDeployment, environmentName: string | undefined, environment: EnvironmentSpec | undefined): PlanPart {
  const arn = parseBedrockModelArn(b.model.bedrock);
  if (!arn) throw new DeployError(`deployments.${b.name}.model.bedrock is not a Bedrock custom model ARN`, { location: spec.locate(['deployments', b.name, 'model', 'bedrock']) });
  const isSource = environment !== undefined && environment.account === arn.account && environmentName === b.sourceEnvironment;
  const regions = environment && !isSource ? regionsFor(b, environment) : [];
  const key = environment?.kmsKeyId;
  const copies = regions.map((region) => ({ region, ...(kmsKeyIn(key, region) ? { kmsKeyId: kmsKeyIn(key, region) } : {}) }));
  // The loader refused a key that cannot serve a copy region (src/config/bedrock.ts): each region has its key here.
  const bought = environmentName && b.bedrockThroughput && bedrockThroughputTargets(b, spec.environments).some((t) => t.environment === environmentName) && regions.length > 0 ? b.bedrockThroughput : undefined;
  const plan: BedrockPlan = {
    deployment: b.name,
    target: 'bedrock',
    model: { arn: arn.arn, account: arn.account, region: arn.region, partition: arn.partition, ...(arn.baseModel ? { baseModel: arn.baseModel } : {}), sourceEnvironment: b.sourceEnvironment },
    ...(environment && environmentName ? { environment: { name: environmentName, account: environment.account, role: isSource ? 'source' : 'target' } } : {}),
    copies,
    ...(bought ? { provisionedThroughput: { modelUnits: bought.modelUnits, commitment: bought.commitment, regions } } : {}),
    checks: {
      // The loader refused regions of another partition than the model's: what is left is the same partition.
      partition: regions.length ? `${arn.partition}: the model's partition, as every copy region's (${[...new Set(regions.map(partitionOf))].join(', ')})` : `${arn.partition}`,
      kmsKey: key ? (regions.length ? `${key}: usable in ${regions.join(', ')}` : key) : 'none: the copies use the AWS-owned key',
      baseModelOffered: arn.baseModel ? `${arn.baseModel}: ${NOT_CHECKED}` : `an imported model (no base model in its ARN): ${NOT_CHECKED}`,
    },
  };
  return { files: [{ path: `${b.name}/bedrock.json`, content: `${JSON.stringify(plan, null, 2)}\n` }], summary: summaryLines(plan) };
}

function summaryLines(p: BedrockPlan): string[] {
  const m = p.model;
  const lines = [`${p.deployment}: target bedrock: custom model ${m.arn} (account ${m.account}, environment ${m.sourceEnvironment}, ${m.region}${m.baseModel ? `; base model ${m.baseModel}` : ''})`];
  if (!p.environment) lines.push(`  no environment planned: promote-model copies it into a target environment's regions`);
  else if (p.environment.role === 'source') lines.push(`  ${p.environment.name} holds the model: nothing is copied into it (promote-model copies from it)`);
  else {
    lines.push(`  copies in ${p.environment.name} (${p.environment.account}): ${p.copies.map((c) => `${c.region}${c.kmsKeyId ? ` (KMS ${c.kmsKeyId})` : ''}`).join(', ')}`);
    const t = p.provisionedThroughput;
    lines.push(t ? `  provisioned throughput in each: ${t.modelUnits} model unit${t.modelUnits === 1 ? '' : 's'}, commitment ${t.commitment}` : `  provisioned throughput: none bought in ${p.environment.name}`);
  }
  lines.push(`  region truth: partition ${p.checks.partition}; base model offered with provisioned throughput: not checked offline (promote-model checks it before copying)`);
  return lines;
}
