import { buildModel } from './build-model';
import { deployEndpoint } from './deploy-endpoint';
import { estimateCost } from './estimate-cost';
import { promoteModel } from './promote-model';
import { rotateKey } from './rotate-key';
import type { ActionDefinition, InputDefinition, OutputDefinition } from './types';

export type { ActionDefinition, InputDefinition, OutputDefinition } from './types';

export const ACTIONS: readonly ActionDefinition[] = [buildModel, deployEndpoint, rotateKey, promoteModel, estimateCost];
export const ACTION_NAMES = ACTIONS.map((a) => a.name);

export function actionByName(name: string): ActionDefinition | undefined {
  return ACTIONS.find((a) => a.name === name);
}

/** The root action: every sub-action's inputs (none required at this level) plus `command`. */
export function rootDefinition(): ActionDefinition {
  const inputs: Record<string, InputDefinition> = {
    command: { description: `Which action to run: ${ACTION_NAMES.join(', ')}.`, required: true, type: 'choice', choices: ACTION_NAMES },
  };
  const outputs: Record<string, OutputDefinition> = {};
  for (const action of ACTIONS) {
    for (const [name, def] of Object.entries(action.inputs)) {
      const seen = inputs[name];
      if (!seen) {
        const { required: _required, ...rest } = def;
        void _required;
        inputs[name] = rest;
      } else if (seen.default !== def.default || seen.type !== def.type) {
        // Same name, different default or kind: the root passes the value through and the
        // sub-action applies its own default at run time.
        inputs[name] = {
          description: `${seen.description.replace(/ \(default per command\)$/, '')} (default per command)`,
        };
      }
    }
    for (const [name, def] of Object.entries(action.outputs)) {
      if (!outputs[name]) outputs[name] = def;
    }
  }
  return {
    name: 'model-deploy',
    title: 'model-deploy',
    description: 'Take an AI model from a pull request to a running, secured, cost-checked endpoint on AWS. `command` selects the action.',
    inputs,
    outputs,
  };
}
