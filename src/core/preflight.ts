/**
 * The first thing a bundle does, before it loads anything heavy: check the inputs. A missing or
 * invalid input is rejected in a few milliseconds with the runner's own workflow commands, without
 * @actions/core, YAML, JSON Schema or the AWS SDK being loaded.
 */
import * as path from 'path';
import type { ActionDefinition } from '../actions/definitions/types';
import { DeployError } from './errors';
import { Inputs, envInputSource } from './inputs';

declare const __non_webpack_require__: NodeRequire | undefined;

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function preflight(definition: ActionDefinition, env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    new Inputs(definition, envInputSource(env), {
      setSecret: (v: string) => process.stdout.write(`::add-mask::${escapeData(v)}\n`),
    } as never);
    return true;
  } catch (err) {
    if (!(err instanceof DeployError)) throw err;
    const title = err.title ? ` title=${escapeProperty(err.title)}` : '';
    process.stdout.write(`::error${title}::${escapeData(`${definition.name}: ${err.describe()}`)}\n`);
    process.exitCode = 1;
    return false;
  }
}

/** Loads the action's flow bundle (dist/<action>/flow/index.js) at run time. */
export function loadFlow(dir: string): void {
  const load = typeof __non_webpack_require__ === 'function' ? __non_webpack_require__ : require;
  load(path.join(dir, 'flow', 'index.js'));
}
