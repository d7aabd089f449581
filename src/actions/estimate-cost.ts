// Thin layer of the estimate-cost action: inputs → domain flow → outputs. (Flow wired by its issue.)
import type { ActionContext } from '../core/action';
import { DeployError } from '../core/errors';
import { selectFromInputs } from '../spec/select';

export async function run(ctx: ActionContext): Promise<void> {
  const selection = selectFromInputs(ctx);
  throw new DeployError(`estimate-cost is not wired yet for ${selection.deployment.name}`);
}
