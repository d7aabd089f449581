// The estimate-cost action: its interface, and run(): typed inputs → estimateCost() → summary, outputs, and the failure (comment, budget) last.
import * as fs from 'fs';
import * as path from 'path';
import type * as WorkerThreads from 'worker_threads';
import type { ActionContext } from '../core/action';
import { COMMON_INPUTS, InputValues } from '../core/inputs';
import { ESTIMATE_MODES, estimateCost } from '../cost/flow';
import { COMMENT_BEHAVIORS } from '../cost/github';
import { BUDGET_SCOPES } from '../cost/report';

/** A figure as one decimal output when the spec has one currency, and as <name>-usd / <name>-cny always. */
function perCurrency<N extends string>(name: N, what: string) {
  return {
    [name]: { description: `${what}. A decimal; empty when the spec has two currencies (see ${name}-usd and ${name}-cny).` },
    [`${name}-usd`]: { description: `${what}, in USD (empty when nothing is priced in USD).` },
    [`${name}-cny`]: { description: `${what}, in CNY (China regions; empty when nothing is priced in CNY).` },
  } as Record<N | `${N}-usd` | `${N}-cny`, { description: string }>;
}

const AMOUNT = { pattern: '[\\d,]+(\\.\\d+)?', valid: 'an amount like 500 or 1250.50' } as const;

export const definition = {
  name: 'estimate-cost',
  title: 'model-deploy: estimate cost',
  description: 'Prices the deployment spec (monthly and one-time) against the base branch and posts one PR comment with a chart; a budget can fail the check.',
  inputs: {
    config: COMMON_INPUTS.config,
    deployment: { description: 'Estimate only this deployment (default: all).' },
    environment: COMMON_INPUTS.environment,
    'http-proxy': COMMON_INPUTS['http-proxy'],
    'base-ref': {
      description: 'Git ref of the base to compare with (default: the pull request base). The spec is read from that commit (fetched alone when the checkout is shallow, or through the contents API with github-token).',
    },
    'base-config': { description: 'Path of a base spec file already on disk (instead of base-ref).' },
    'hours-per-month': { description: 'Hours in a month (730 is the AWS calculator convention).', type: 'number', default: '730', min: 1, max: 744 },
    'live-prices': { description: 'Ask the AWS Price List API for current prices (needs AWS credentials).', type: 'boolean', default: 'false' },
    'check-quotas': {
      description: "Read the applied Service Quotas of each instance type and show the headroom at every deployment's autoscaling maximum (twice on SageMaker during blue/green). Needs a read-only AWS identity (the bootstrap's plan role); a pull request from a fork says not checked.",
      type: 'boolean',
      default: 'false',
    },
    'bill-days': {
      description:
        "Check the deployments the pull request touches against the bill of the last N full days (Cost Explorer, by the stacks' tags): the comment says estimated and billed under each. Needs a read-only AWS identity with ce:GetCostAndUsage (the bootstrap's plan role); a pull request from a fork or a job without credentials says not checked and never fails. 0: off.",
      type: 'integer',
      default: '0',
      min: 0,
      max: 90,
    },
    'max-monthly-cost': { description: "Fail when a currency's monthly total can exceed this (an amount; checked against the autoscaling maximum).", ...AMOUNT },
    'max-monthly-increase': {
      description: 'Fail when the monthly total of a currency rises by more than this against the base, new deployments included: an amount (100) or a percent (10%).',
      pattern: '[\\d,]+(\\.\\d+)?%?',
      valid: 'an amount (100) or a percent (10%)',
    },
    'budget-scope': {
      description: 'What the budget inputs apply to: total (each currency\'s total) or deployment (every deployment on its own).',
      type: 'choice',
      choices: BUDGET_SCOPES,
      default: 'total',
    },
    mode: {
      description: 'estimate (compute and write files), comment (for the workflow_run job: post a comment whose figures it re-derives from a result file\'s components and the price catalogue, with this step\'s own budget inputs), or estimate-and-comment.',
      type: 'choice',
      choices: ESTIMATE_MODES,
      default: 'estimate-and-comment',
    },
    'comment-behavior': { description: 'How the PR comment is written.', type: 'choice', choices: COMMENT_BEHAVIORS, default: 'update' },
    'skip-if-unchanged': { description: 'Post nothing when the estimate did not change.', type: 'boolean', default: 'false' },
    'result-file': { description: 'Where the JSON result is written (estimate) or read from (comment).', default: 'model-deploy-cost.json' },
    'benchmark-results': {
      description:
        'Folder of measured price-performance results (written by deploy-endpoint with benchmark: true). On a pull request they are read at the base commit, so a fork cannot plant its own; a deployment measured in its head configuration shows $ per 1M output tokens.',
      default: '.model-deploy/benchmarks/',
    },
    'pr-number': { description: 'Pull request to comment on (default: from the event).', type: 'integer', min: 1 },
    'github-token': { description: 'Token that may write pull request comments.', default: '${{ github.token }}', secret: true },
  },
  outputs: {
    ...perCurrency('total-monthly-cost', 'New monthly total (decimal string; the minimum when autoscaling gives a range)'),
    ...perCurrency('total-monthly-cost-max', 'New monthly total at the autoscaling maximum'),
    ...perCurrency('past-total-monthly-cost', 'Base monthly total'),
    ...perCurrency('diff-monthly-cost', 'New minus base'),
    ...perCurrency('diff-percent', 'Change in percent (empty when the base is zero)'),
    ...perCurrency('one-time-cost', 'One-time cost (builds)'),
    'totals-json': { description: 'Every total above as JSON: a list with one object per currency.' },
    currency: { description: 'USD, or CNY for China regions (comma-separated when a spec has both; totals are never mixed).' },
    'result-file': { description: 'Path of the JSON result.' },
    'comment-url': { description: 'URL of the PR comment (empty when none was posted).' },
    'over-budget': { description: 'true when a guardrail failed.' },
  },
} as const;

/** Output name → figure of one currency's totals. */
const FIGURES = {
  'total-monthly-cost': 'totalMonthlyCost',
  'total-monthly-cost-max': 'totalMonthlyCostMax',
  'past-total-monthly-cost': 'pastTotalMonthlyCost',
  'diff-monthly-cost': 'diffTotalMonthlyCost',
  'diff-percent': 'diffPercent',
  'one-time-cost': 'totalOneTimeCost',
} as const;

/**
 * Above these sizes (a spec of ~300 deployments, a result file of ~100) the run moves to a worker thread whose
 * young generation is capped at 16 MB: Node 24 lets it grow to 64 MB semi-spaces on a large machine, and the
 * peak memory of 1000 deployments x 6 regions with it (284 MB) is V8's sizing, not the data (~53 MB live).
 * A JavaScript action cannot pass --max-semi-space-size; a worker's resourceLimits can. The worker loads the
 * bundle again (~30 ms), so a small spec, a PR's usual case, stays on the main thread.
 */
const LARGE_SPEC_BYTES = 100 * 1024;
const LARGE_RESULT_BYTES = 4 * 1024 * 1024;

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0; // read (and said missing) by the run itself
  }
}

/** The bundle's loader when this runs as the action (dist/estimate-cost/index.js beside bundle.js); undefined in tests. */
function bundleScript(): string | undefined {
  const script = process.argv[1];
  return script && fs.existsSync(path.join(path.dirname(script), 'bundle.js')) ? script : undefined;
}

/** The exit code of the whole run in a worker thread, or undefined to run here. */
async function runLargeInWorker(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<number | undefined> {
  const large = inputs.mode === 'comment' ? sizeOf(path.resolve(ctx.workspace, inputs['result-file'])) > LARGE_RESULT_BYTES : sizeOf(path.resolve(ctx.workspace, inputs.config)) > LARGE_SPEC_BYTES;
  if (!large) return undefined;
  // Required here, not at the top: loading worker_threads (node:stream and the worker's message ports
  // with it) is ~5 ms of Node 24's start, and a usual spec never starts a worker.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const threads = require('worker_threads') as typeof WorkerThreads;
  const script = threads.isMainThread ? bundleScript() : undefined;
  if (!script) return undefined;
  ctx.reporter.debug('A large spec or result file: estimating in a worker thread with a bounded young generation.');
  // The same inputs and runner files (SHARE_ENV); the worker reports, writes the outputs and the summary itself.
  const worker = new threads.Worker(script, { env: threads.SHARE_ENV, resourceLimits: { maxYoungGenerationSizeMb: 16 } });
  // A cancelled workflow (SIGINT/SIGTERM reach this thread only) stops the worker too.
  const stop = () => void worker.terminate();
  ctx.signal.addEventListener('abort', stop, { once: true });
  return new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  }).finally(() => ctx.signal.removeEventListener('abort', stop));
}

export async function run(inputs: InputValues<typeof definition>, ctx: ActionContext): Promise<void> {
  const code = await runLargeInWorker(inputs, ctx);
  if (code !== undefined) {
    // The worker has said why it failed; only the status is the process's.
    if (code !== 0) process.exitCode = code;
    return;
  }
  const set = (name: keyof typeof definition.outputs, value: string) => ctx.reporter.setOutput(name, value);
  const estimate = await estimateCost(
    { workspace: ctx.workspace, config: inputs.config, deployment: inputs.deployment, environment: inputs.environment },
    {
      baseRef: inputs['base-ref'],
      baseConfig: inputs['base-config'],
      hoursPerMonth: inputs['hours-per-month'],
      livePrices: inputs['live-prices'],
      checkQuotas: inputs['check-quotas'],
      billDays: inputs['bill-days'],
      maxMonthlyCost: inputs['max-monthly-cost'],
      maxMonthlyIncrease: inputs['max-monthly-increase'],
      mode: inputs.mode,
      behavior: inputs['comment-behavior'],
      skipIfUnchanged: inputs['skip-if-unchanged'],
      budgetScope: inputs['budget-scope'],
      benchmarkResults: inputs['benchmark-results'],
      resultFile: inputs['result-file'],
      prNumber: inputs['pr-number'],
      token: inputs['github-token'],
      // Written while the comment is on its way (the figures do not depend on it).
      figuresReady: async (figures) => {
        if (figures.summary) await ctx.reporter.summary(figures.summary);
        // Each figure unsuffixed when the spec has one currency (empty with two, never "537.57 USD; 3812.79
        // CNY"), and per currency as <name>-usd / <name>-cny; all of them as JSON in totals-json.
        const only = figures.totals.length === 1 ? figures.totals[0] : undefined;
        for (const [output, field] of Object.entries(FIGURES)) {
          set(output as keyof typeof FIGURES, only?.[field] ?? '');
          for (const t of figures.totals) set(`${output}-${t.currency.toLowerCase()}` as keyof typeof definition.outputs, t[field] ?? '');
        }
        set('totals-json', JSON.stringify(figures.totals));
        set('currency', figures.totals.map((t) => t.currency).join(','));
        set('result-file', inputs['result-file']);
        set('over-budget', String(figures.violations.length > 0));
      },
    },
    ctx,
  );
  if (estimate.failure?.stage === 'comment') throw estimate.failure.error;
  set('comment-url', estimate.commentUrl ?? '');
  if (estimate.failure) throw estimate.failure.error;
}
