/** promote-model's action layer: the target environment is selected once, with its regions, from the inputs. */
import { definition, run } from '../../../src/actions/promote-model';
import { EnvInputs } from '../../../src/core/env';
import { DeployError } from '../../../src/core/errors';
import { mapInputSource, parseInputs } from '../../../src/core/inputs';
import { memoryReporter } from '../../../src/core/log';
import { workspaceWith } from '../promote/harness';

/** run() with these inputs (config and deployment of the promote harness's spec); its error, if it throws. */
async function failure(values: Record<string, string>): Promise<DeployError> {
  const reporter = memoryReporter();
  const inputs = parseInputs(definition, mapInputSource({ config: 'model-deploy.yml', deployment: 'chat', ...values }), reporter);
  const ctx = { reporter, signal: new AbortController().signal, workspace: workspaceWith(), env: new EnvInputs({}) };
  const err = await run(inputs, ctx).then(() => undefined, (e: unknown) => e);
  if (!(err instanceof DeployError)) throw new Error(`expected a DeployError, got ${String(err)}`);
  return err;
}

describe('promote-model: the target environment, before any AWS call', () => {
  test('an unknown environment names the input', async () => {
    expect((await failure({ 'target-environment': 'prd' })).message).toMatch(/unknown environment "prd" \(input `target-environment`\)/);
  });
  test('an account id that is not in the spec', async () => {
    const err = await failure({ 'target-environment': '999999999999' });
    expect(err.message).toMatch(/account 999999999999 is not in the spec/);
    expect(err.hint).toMatch(/prod \(333333333333\)/);
  });
  test('an account id that is an environment points at its name', async () => {
    expect((await failure({ 'target-environment': '333333333333' })).message).toMatch(/is environment "prod"/);
  });
  test('a region the deployment does not serve in the target environment', async () => {
    expect((await failure({ 'target-environment': 'prod', region: 'ap-south-1' })).message).toMatch(/ap-south-1/);
  });
});
