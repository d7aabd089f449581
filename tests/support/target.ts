/** The one way tests build a Target: the bundled example spec (optionally edited), selected as an action would. */
import * as fs from 'fs';
import * as path from 'path';
import { parseSpec, regionsFor, selectDeployment, selectEnvironment } from '../../src/config/load';
import { Target, targetNames } from '../../src/config/select';

export const ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_SPEC = path.join(ROOT, 'examples', 'model-deploy.yml');

export function exampleSpec(mutate?: (text: string) => string) {
  const text = fs.readFileSync(EXAMPLE_SPEC, 'utf8');
  return parseSpec(mutate ? mutate(text) : text, 'model-deploy.yml', path.dirname(EXAMPLE_SPEC));
}

export function exampleTarget(deployment: string, environmentName?: string, mutate?: (text: string) => string): Target {
  const spec = exampleSpec(mutate);
  const d = selectDeployment(spec, deployment);
  const environment = environmentName ? selectEnvironment(spec, environmentName) : undefined;
  return { spec, specFile: EXAMPLE_SPEC, specDir: path.dirname(EXAMPLE_SPEC), deployment: d, environmentName, environment, regions: regionsFor(d, environment), names: targetNames(d, environmentName) };
}
