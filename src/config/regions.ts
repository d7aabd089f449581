/** Where a deployment runs: its regions in an environment, and the environments its Bedrock throughput is bought in. */
import type { Deployment, EnvironmentSpec } from './types';

/** Regions a deployment serves in an environment (the environment may narrow them). */
export function regionsFor(d: Pick<Deployment, 'regions'>, env?: Pick<EnvironmentSpec, 'regions'>): string[] {
  return env?.regions ?? d.regions;
}

/** Where promote-model buys a deployment's bedrockThroughput: the target environments, each with its regions. */
export interface ThroughputTarget {
  environment: string;
  regions: string[];
}

/** Its `environment`, else every environment with a promotionRoleArn (the promotion targets); none without the field. */
export function bedrockThroughputTargets(d: Pick<Deployment, 'bedrockThroughput' | 'regions'>, environments: Record<string, EnvironmentSpec>): ThroughputTarget[] {
  const t = d.bedrockThroughput;
  if (!t) return [];
  const names = t.environment !== undefined ? [t.environment] : Object.keys(environments).filter((n) => environments[n]?.promotionRoleArn);
  return names.flatMap((name) => {
    const env = environments[name];
    return env ? [{ environment: name, regions: regionsFor(d, env) }] : [];
  });
}
