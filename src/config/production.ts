/**
 * The "prod" rule, in one place: the environment named `prod` is production (a GitHub deployment
 * marked production, termination protection on unless the spec says otherwise).
 */
import type { EnvironmentSpec } from './types';

export const PRODUCTION_ENVIRONMENT = 'prod';

export function isProduction(environmentName: string | undefined): boolean {
  return environmentName === PRODUCTION_ENVIRONMENT;
}

/** Termination protection as the environment wants it (prod: on unless the spec says otherwise). */
export function wantsTerminationProtection(environmentName: string | undefined, environment: Pick<EnvironmentSpec, 'terminationProtection'> | undefined): boolean {
  return environment?.terminationProtection ?? isProduction(environmentName);
}
