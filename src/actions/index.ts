/**
 * Every action module, for what needs them all: the action.yml generator, the CLI and the tests.
 * A bundle never imports this file: each action's entry imports its own module only.
 */
import type { ActionModule } from '../core/action';
import type { ActionDefinition, InputDefinition, OutputDefinition } from '../core/inputs';
import * as buildModel from './build-model';
import * as costReport from './cost-report';
import * as deployEndpoint from './deploy-endpoint';
import * as estimateCost from './estimate-cost';
import { ACTION_NAMES } from './names';
import * as promoteModel from './promote-model';
import * as rotateKey from './rotate-key';

export { ACTION_NAMES } from './names';

export const ACTION_MODULES: readonly ActionModule<ActionDefinition>[] = [buildModel, deployEndpoint, rotateKey, promoteModel, estimateCost, costReport] as never;
export const ACTIONS: readonly ActionDefinition[] = ACTION_MODULES.map((m) => m.definition);

export function actionModule(name: string): ActionModule<ActionDefinition> | undefined {
  return ACTION_MODULES.find((m) => m.definition.name === name);
}

export function actionByName(name: string): ActionDefinition | undefined {
  return actionModule(name)?.definition;
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
