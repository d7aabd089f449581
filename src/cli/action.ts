/** `model-deploy <action>`: an action run from this machine, its inputs as flags. */
import * as fs from 'fs';
import * as path from 'path';
import { actionModule } from '../actions';
import { runAction } from '../core/action';
import { ActionDefinition, mapInputSource } from '../core/inputs';
import { DEFAULT_SPEC_FILE, missingSpecError } from '../config/load';
import { parseFlags } from './flags';
import type { CliIo } from './io';

/** An action's usage, from its definition: each input is a flag. */
function actionHelp(definition: ActionDefinition): string {
  const flags = Object.entries(definition.inputs).map(([name, input]) => {
    const arg = input.type === 'boolean' ? '' : input.type === 'integer' || input.type === 'number' ? ' N' : ' VALUE';
    const choices = input.choices ? ` One of: ${input.choices.join(', ')}.` : '';
    const dflt = input.default !== undefined && !input.default.includes('${{') ? ` (default ${input.default})` : '';
    return `  --${name}${arg}\n      ${input.description}${choices}${dflt}${input.required ? ' Required.' : ''}`;
  });
  return `model-deploy ${definition.name} [--<input> VALUE ...]\n\n${definition.description}\nRuns with your AWS credentials.\n\n${flags.join('\n')}\n`;
}

/** The command of one action (the caller knows the name is an action's). */
export function actionCommand(name: string): { usage: string; run(args: string[], io: CliIo): Promise<number> } {
  const action = actionModule(name);
  if (!action) throw new Error(`no action ${name}`);
  return {
    usage: actionHelp(action.definition),
    async run(args, { reporter }) {
      const flags = parseFlags(args, Object.keys(action.definition.inputs));
      // The action would name its `config` input; from a terminal the user gave (or left out) --config.
      if ('config' in action.definition.inputs) {
        const config = flags.config ?? DEFAULT_SPEC_FILE;
        // Resolved as the action resolves it (core/action.ts: the workspace, else the current folder).
        if (!fs.existsSync(path.resolve(process.env.GITHUB_WORKSPACE || process.cwd(), config))) throw missingSpecError(config, '--config');
      }
      const ok = await runAction(action, { source: mapInputSource(flags), reporter, setExitCode: false });
      return ok ? 0 : 1;
    },
  };
}
