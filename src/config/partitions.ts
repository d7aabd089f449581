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

const HINT = 'China regions live in the aws-cn partition: ARNs there start with arn:aws-cn:, in accounts of their own. Put China regions in an environment (and deployment) of their own.';

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
        hint: HINT,
      });
    }
  }
  return problems;
}

