/** A spec's problems as the loader reports them: every error of a spec that is refused, in order. */
import { DeployError, DeployErrors } from '../../src/core/errors';
import { parseSpec } from '../../src/config/load';

/** The errors parseSpec refuses `text` with; none for a valid spec. */
export function specProblems(text: string, specDir?: string): DeployError[] {
  try {
    parseSpec(text, 'model-deploy.yml', specDir);
  } catch (err) {
    if (err instanceof DeployErrors) return err.errors;
    if (err instanceof DeployError) return [err];
    throw err;
  }
  return [];
}

/** As specProblems, for a spec that must be refused: a valid one fails the test. */
export function specRejections(text: string, specDir?: string): DeployError[] {
  const found = specProblems(text, specDir);
  if (found.length === 0) throw new Error('expected the spec to be rejected');
  return found;
}
