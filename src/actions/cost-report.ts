// The cost-report action: its interface, and run(): typed inputs → reportBill() → summary, outputs, the issue.
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import { DEFAULT_BILL_DAYS, MAX_BILL_DAYS } from '../cost/bill';
import { reportBill } from '../cost/bill-report';

export const definition = {
  name: 'cost-report',
  title: 'model-deploy: cost report',
  description: "Checks the estimate against the bill: each deployment's estimated and billed cost (Cost Explorer, by the tags the stacks set) over the last days, the error in %, and where a gap comes from; optionally in one issue it keeps up to date.",
  inputs: {
    config: COMMON_INPUTS.config,
    deployment: { description: 'Report only this deployment (default: every deployment of the spec).' },
    environment: COMMON_INPUTS.environment,
    'http-proxy': COMMON_INPUTS['http-proxy'],
    days: { description: `How many full days (UTC, up to yesterday) to compare, 1-${MAX_BILL_DAYS}.`, type: 'integer', default: String(DEFAULT_BILL_DAYS), min: 1, max: MAX_BILL_DAYS },
    'hours-per-month': { description: 'Hours in a month, as the estimate counts them (730 is the AWS calculator convention).', type: 'number', default: '730', min: 1, max: 744 },
    issue: { description: 'Open one issue with the report, or update it (found by a hidden marker) on the next run.', type: 'boolean', default: 'false' },
    'issue-title': { description: 'Title of the report issue (default: "Cost report: PROJECT (ENVIRONMENT), estimate vs bill").' },
    'github-token': { description: 'Token that may write issues (issue: true).', default: '${{ github.token }}', secret: true },
  },
  outputs: {
    'report-json': { description: 'The comparison as JSON: the window, and per deployment the days compared, estimated, billed, error and explanations.' },
    'within-tolerance': { description: 'true when every compared deployment is within ±10 % of its bill; empty when nothing could be compared.' },
    'issue-url': { description: 'URL of the report issue (empty without issue: true).' },
  },
} as const;

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  const result = await reportBill(
    { workspace: ctx.workspace, config: inputs.config, deployment: inputs.deployment, environment: inputs.environment },
    { days: inputs.days, hoursPerMonth: inputs['hours-per-month'], issue: inputs.issue, issueTitle: inputs['issue-title'], token: inputs['github-token'] },
    ctx,
  );
  await ctx.reporter.summary(result.markdown);
  const compared = result.comparison.deployments.filter((d) => d.errorPercent !== undefined);
  ctx.reporter.setOutput('report-json', JSON.stringify(result.comparison));
  ctx.reporter.setOutput('within-tolerance', compared.length === 0 ? '' : String(compared.every((d) => d.withinTolerance)));
  ctx.reporter.setOutput('issue-url', result.issue?.url ?? '');
}
