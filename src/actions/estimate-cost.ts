// Thin layer of the estimate-cost action: inputs → domain flow → outputs.
import type { ActionContext } from '../core/action';
import type { CommentBehavior } from '../cost/github';
import { EstimateMode, runEstimateCost } from '../cost/flow';

export async function run(ctx: ActionContext): Promise<void> {
  const i = ctx.inputs;
  await runEstimateCost({
    workspace: ctx.workspace,
    config: i.string('config'),
    deployment: i.optional('deployment'),
    environment: i.optional('environment'),
    baseRef: i.optional('base-ref'),
    baseConfig: i.optional('base-config'),
    hoursPerMonth: i.number('hours-per-month') ?? 730,
    livePrices: i.bool('live-prices'),
    maxMonthlyCost: i.optional('max-monthly-cost'),
    maxMonthlyIncrease: i.optional('max-monthly-increase'),
    mode: i.string('mode') as EstimateMode,
    behavior: i.string('comment-behavior') as CommentBehavior,
    skipIfUnchanged: i.bool('skip-if-unchanged'),
    resultFile: i.string('result-file'),
    prNumber: i.number('pr-number'),
    token: i.optional('github-token'),
    env: ctx.env,
    reporter: ctx.reporter,
  });
}
