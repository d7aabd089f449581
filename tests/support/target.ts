/** The one way tests build a Target: the bundled example spec (optionally edited), resolved as an action resolves it (targetOf). */
import * as fs from 'fs';
import * as path from 'path';
import { parseSpec } from '../../src/config/load';
import { Target, targetOf } from '../../src/config/select';

export const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_SPEC = path.join(ROOT, 'examples', 'model-deploy.yml');

export function exampleSpec(mutate?: (text: string) => string) {
  const text = fs.readFileSync(EXAMPLE_SPEC, 'utf8');
  return parseSpec(mutate ? mutate(text) : text, 'model-deploy.yml', path.dirname(EXAMPLE_SPEC));
}

export function exampleTarget(deployment: string, environmentName?: string, mutate?: (text: string) => string): Target {
  return targetOf(exampleSpec(mutate), EXAMPLE_SPEC, { deployment, environment: environmentName });
}
