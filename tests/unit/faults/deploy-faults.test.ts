/**
 * The fault-injection suite of #23: every failure mode ends within its budget (fake clock), red with the
 * true reason in the error and the job summary, or green only when what runs is what was asked.
 */
import { CancelUpdateStackCommand, ExecuteChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { DeployError } from '../../../src/core/errors';
import { FAULTS } from './cases';
import { mocks, runFault } from './world';

const MIN = 60000;

describe('deploy fault injection (#23)', () => {
  it('covers at least 30 failure modes', () => {
    expect(FAULTS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(FAULTS.map((f) => [f.name, f] as const))('%s', async (_name, f) => {
    const out = await runFault(f);
    const budget = f.budgetMs ?? (f.timeoutMinutes ?? 60) * MIN + 5000;
    expect(out.elapsedMs).toBeLessThanOrEqual(budget);
    if ('ok' in f.expect) {
      expect({ ok: out.ok, error: out.ok ? undefined : String(out.error) }).toEqual({ ok: true, error: undefined });
      return;
    }
    expect(out.ok).toBe(false);
    expect(out.error).toBeInstanceOf(DeployError);
    const err = out.error as DeployError;
    expect(err.message).toMatch(f.expect.reason);
    if (f.expect.hint) expect(err.describe()).toMatch(f.expect.hint);
    // The summary carries the reason too, with the stopwatch up to the failure.
    expect(out.summary).toMatch(f.expect.reason);
    expect(out.summary).toMatch(/\| Stage \| Time \| AWS requests \|/);
  });

  it('a cancelled update is rolled back (CancelUpdateStack), and nothing executes when cancelled before', async () => {
    await runFault(FAULTS.find((f) => f.cancelOn === 'DescribeStackEvents')!);
    expect(mocks.cfn.commandCalls(CancelUpdateStackCommand)).toHaveLength(1);
    await runFault(FAULTS.find((f) => f.cancelOn === 'DescribeChangeSet')!);
    expect(mocks.cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });
});
