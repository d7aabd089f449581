/**
 * No-wait mode and resume (#23.7) through the deploy's door on the fault world: wait: false returns once the
 * change set executes, naming what mode resume needs; resume follows that operation with the same checks.
 */
import { CancelUpdateStackCommand, CreateChangeSetCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { FAULTS } from './cases';
import { mocks, runFault } from './world';

const fault = (name: string) => FAULTS.find((f) => f.name.startsWith(name))!;

test('wait: false returns once the change set executes, with the stack, change set and region', async () => {
  const out = await runFault(fault('no-wait'));
  expect(out.results).toEqual([expect.objectContaining({ status: 'executing', region: 'us-east-1', stackName: 'acme-llm-qwen-chat-dev', changeSetId: 'arn:cs/md-abcdef0', stackId: expect.stringContaining(':stack/acme-llm-qwen-chat-dev/') })]);
  expect(mocks.cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  // Nothing waited on: no events, no endpoint, no smoke test.
  expect(out.calls).not.toHaveProperty('DescribeStackEvents');
  expect(out.calls).not.toHaveProperty('DescribeEndpoint');
  expect(out.calls).not.toHaveProperty('InvokeEndpoint');
  expect(out.text).toMatch(/not waiting \(wait: false\): follow it with mode: resume/);
});

test('resume follows the running update to its end and checks what runs, creating and executing nothing', async () => {
  const out = await runFault(fault('resume: an update left running'));
  expect(out.ok).toBe(true);
  expect(out.results?.[0]?.status).toBe('deployed');
  expect(mocks.cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  expect(mocks.cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  expect(out.calls.DescribeServices).toBeGreaterThan(0);
  expect(out.text).toMatch(/Resuming: acme-llm-code-assistant-dev \(us-east-1\) is UPDATE_IN_PROGRESS/);
});

test('resume past the deadline cancels the update, as a deploy that waited does', async () => {
  await runFault(fault('resume: stuck past the deadline'));
  expect(mocks.cfn.commandCalls(CancelUpdateStackCommand)).toHaveLength(1);
});

test('wait: false with a mode that cannot return early is refused before anything is read', async () => {
  const { run } = await import('../../../src/actions/deploy-endpoint');
  const { memoryReporter } = await import('../../../src/core/log');
  const { EnvInputs } = await import('../../../src/core/env');
  const inputs = { mode: 'destroy', wait: false, config: 'missing.yml' } as unknown as Parameters<typeof run>[0];
  const err = await run(inputs, { reporter: memoryReporter(), workspace: '/nonexistent', env: new EnvInputs({}), signal: new AbortController().signal }).catch((e: unknown) => e);
  expect(String(err)).toMatch(/input `wait` is false, and mode is destroy: only create-and-execute and execute-only can return before the stack is done/);
});
