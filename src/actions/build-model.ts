// Thin layer of the build-model action: inputs → domain flow → outputs. (Flow wired by its issue.)
import type { ActionContext } from '../core/action';
import { DeployError } from '../core/errors';
import { selectFromInputs } from '../spec/select';

export async function run(ctx: ActionContext): Promise<void> {
  const selection = selectFromInputs(ctx);
  throw new DeployError(`build-model is not wired yet for ${selection.deployment.name}`);
}
