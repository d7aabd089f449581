/**
 * What the workstation commands (bootstrap, status, destroy) share: the user's own credentials (--profile,
 * else the SDK's chain: environment, profile, SSO...), and the spec when there is one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_SPEC_FILE, loadSpec } from '../config/load';
import { targetOf, type Target } from '../config/select';
import type { Spec } from '../config/types';

/** --profile: the SDK's chain reads AWS_PROFILE when it first resolves credentials, after this. */
export function useProfile(profile: string | undefined): void {
  if (profile) process.env.AWS_PROFILE = profile;
}

/** The spec at --config (must exist), else ./model-deploy.yml when there is one. */
export function optionalSpec(config: string | undefined): { spec: Spec; file: string } | undefined {
  const file = config ?? DEFAULT_SPEC_FILE;
  if (!config && !fs.existsSync(file)) return undefined;
  return { spec: loadSpec(file, { configFlag: '--config' }), file: path.resolve(file) };
}

/** The spec at --config, else ./model-deploy.yml (a clear error when it is missing). */
export function requiredSpec(config: string | undefined): { spec: Spec; file: string } {
  const file = config ?? DEFAULT_SPEC_FILE;
  return { spec: loadSpec(file, { configFlag: '--config' }), file: path.resolve(file) };
}

/** The region from the environment when no flag or spec names one. */
export function environmentRegion(): string | undefined {
  return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
}

/** An hour: a stack that takes longer is stuck, and the user can run the command again. */
export const WORKSTATION_DEADLINE_MS = 60 * 60 * 1000;

/**
 * The targets a workstation command covers: the named (or every) deployment in the named (or every)
 * environment, in one region when --region names one (a region the deployment does not use is refused).
 */
export function workstationTargets(spec: Spec, file: string, flags: { deployment?: string; environment?: string; region?: string }): Target[] {
  const environments = flags.environment ? [flags.environment] : Object.keys(spec.environments ?? {});
  const deployments = flags.deployment ? [flags.deployment] : Object.keys(spec.deployments);
  return deployments.flatMap((deployment) =>
    (environments.length ? environments : [undefined]).map((environment) => targetOf(spec, file, { deployment, environment, region: flags.region })),
  );
}
