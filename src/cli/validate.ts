/** `model-deploy validate`: the spec against the schema and the rules a schema cannot say. */
import { DEFAULT_SPEC_FILE, loadSpec } from '../config/load';
import { checkSpec } from '../plan/check';
import { parseFlags } from './flags';
import type { CliIo } from './io';

export const usage = `model-deploy validate [--config FILE]

Checks the spec against the schema, the rules a schema cannot say and the checks of docs/spec.md (will the
model start on its instance type, which commit its weights are); prints file:line for each problem.

  --config FILE          The spec (default: model-deploy.yml).
`;

export async function run(args: string[], { out }: CliIo): Promise<number> {
  const flags = parseFlags(args, ['config']);
  const file = flags.config ?? DEFAULT_SPEC_FILE;
  const spec = loadSpec(file, { configFlag: '--config' });
  // What would fail after the merge (fit, engine images), refused at its line like a schema error.
  const { lines } = await checkSpec(spec);
  // target: bedrock deployments are listed with the rest (the loader keeps them in a map of their own).
  const names = [...Object.keys(spec.deployments), ...Object.keys(spec.bedrockDeployments).map((n) => `${n} (bedrock)`)];
  out.write(`${file}: valid, ${names.length} deployment(s): ${names.join(', ')}\n`);
  for (const line of lines) out.write(`  ${line}\n`);
  return 0;
}
