/**
 * China regions are a separate AWS partition (aws-cn): other accounts, other ARNs. A deployment's
 * regions — its own, from defaults, or from the environment it is deployed in — must all be in one
 * partition, and the environment's roles must be of that partition; otherwise the run fails in AWS
 * after some regions were already changed.
 */
import { arnPartition } from '../core/arn';
import { partitionOf } from '../core/aws';
import type { Deployment, EnvironmentSpec } from './types';

export type Partition = ReturnType<typeof partitionOf>;

/** The regions split by China or not: both non-empty means the list mixes partitions. */
export function chinaSplit(regions: readonly string[]): { china: string[]; other: string[] } {
  return { china: regions.filter((r) => partitionOf(r) === 'aws-cn'), other: regions.filter((r) => partitionOf(r) !== 'aws-cn') };
}

/** The one partition of regions that do not mix, else undefined. */
export function partitionOfAll(regions: readonly string[]): Partition | undefined {
  const partitions = new Set(regions.map(partitionOf));
  const [only] = partitions;
  return partitions.size === 1 ? only : undefined;
}

export interface PartitionProblem {
  path: (string | number)[];
  message: string;
  hint: string;
}

const HINT = 'China regions live in the aws-cn partition: ARNs there start with arn:aws-cn:, in accounts of their own. Put China regions in an environment of its own (see examples/china.yml).';

/**
 * The fix for an environment whose role is of one partition while deployments bring regions of another:
 * the environment names its own regions, which replace the deployments' (so every environment stays in
 * one partition). The regions suggested are the deployments' regions of the role's partition.
 */
function regionsHint(name: string, partition: string, deployments: readonly Pick<Deployment, 'regions'>[]): string {
  const own = [...new Set(deployments.flatMap((d) => d.regions).filter((r) => partitionOf(r) === partition))];
  const regions = own.length > 0 ? own : [partition === 'aws-cn' ? 'cn-north-1' : 'us-east-1'];
  return `An environment's regions replace its deployments' regions: set environments.${name}.regions: [${regions.join(', ')}] so it deploys in ${partition} only, and give each partition an environment of its own (see examples/china.yml). ARNs in aws-cn start with arn:aws-cn:.`;
}

/** An environment's regions, and the regions each deployment brings into it, against its roles. */
export function environmentProblems(name: string, env: EnvironmentSpec, deployments: readonly Pick<Deployment, 'name' | 'regions'>[]): PartitionProblem[] {
  const problems: PartitionProblem[] = [];
  if (env.regions) {
    const { china, other } = chinaSplit(env.regions);
    if (china.length > 0 && other.length > 0) {
      problems.push({ path: ['environments', name, 'regions'], message: `environments.${name}: regions mix China regions (${china.join(', ')}) with other regions (${other.join(', ')})`, hint: HINT });
      return problems;
    }
  }
  // Where this environment deploys: its own regions, else each deployment's.
  const targets: [string, string[]][] = env.regions ? [['the environment', env.regions]] : deployments.map((d) => [`deployment ${d.name}`, d.regions]);
  for (const field of ['roleArn', 'promotionRoleArn'] as const) {
    const arn = env[field];
    const partition = arnPartition(arn);
    if (!partition) continue;
    const clash = targets.map(([who, regions]) => ({ who, regions, p: partitionOfAll(regions) })).find((t) => t.p && t.p !== partition);
    if (clash) {
      problems.push({
        path: ['environments', name, field],
        message: `environments.${name}: ${field} is an ARN of partition ${partition}, but ${clash.who} deploys to ${clash.regions.join(', ')} (partition ${clash.p})`,
        // With the environment's own regions the clash is the role, not where it deploys.
        hint: env.regions ? HINT : regionsHint(name, partition, deployments),
      });
    }
  }
  return problems;
}

