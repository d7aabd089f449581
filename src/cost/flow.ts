/**
 * estimate-cost: price the spec on the PR head and on the base, write the JSON result, the job
 * summary and the outputs, post (or update) the one PR comment, and fail on a budget guardrail.
 * The estimate needs no AWS credentials and no write token; `mode: comment` posts a result
 * computed by another job (the workflow_run pattern for pull requests from forks).
 */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from '../core/errors';
import type { RunContext } from '../core/action';
import type { Reporter } from '../core/log';
import type { EnvInputs } from '../core/env';
import { loadSpec, selectDeployment, selectEnvironment } from '../config/load';
import type { Deployment, EnvironmentSpec, Spec } from '../config/types';
import { readBaseSpec } from './base';
import { Estimate, PriceBook, estimateDeployments } from './estimate';
import { CommentBehavior, postComment, verifyPullHead } from './github';
import { fetchLivePrices, neededInstancePrices } from './live';
import { formatMoney } from './money';
import { BudgetViolation, CostReport, ReportJson, buildReport, checkBudget, isUnchanged, parseBudget, reportJson } from './report';
import { GITHUB_COMMENT_LIMIT, commentMarker, renderReport, summaryLines } from './render';

export const ESTIMATE_MODES = ['estimate', 'comment', 'estimate-and-comment'] as const;
export type EstimateMode = (typeof ESTIMATE_MODES)[number];

/** What estimate-cost prices: the spec (relative to the workspace), optionally one deployment and environment. */
export interface CostTarget {
  workspace: string;
  config: string;
  deployment?: string;
  environment?: string;
}

/** What estimate-cost asks for, beyond the target. */
export interface CostRequest {
  baseRef?: string;
  baseConfig?: string;
  hoursPerMonth: number;
  livePrices: boolean;
  maxMonthlyCost?: string;
  maxMonthlyIncrease?: string;
  mode: EstimateMode;
  behavior: CommentBehavior;
  skipIfUnchanged: boolean;
  resultFile: string;
  prNumber?: number;
  token?: string;
  retryBaseMs?: number;
}

export type EstimateCostOptions = CostTarget & CostRequest & { env: EnvInputs; reporter: Reporter };

/** What the estimate job hands to the comment job (inside the JSON result). */
interface CommentPayload {
  marker: string;
  body: string;
  unchanged: boolean;
  pullRequest?: number;
  headSha?: string;
}

type ResultFile = ReportJson & { comment: CommentPayload; overBudget: BudgetViolation[] };

export interface EstimateCostResult {
  report?: CostReport;
  result: ResultFile;
  commentUrl?: string;
  violations: BudgetViolation[];
}

function eventPullRequest(env: EnvInputs): { number?: number; baseSha?: string; headSha?: string } {
  const event = env.event() as { pull_request?: { number?: number; base?: { sha?: string }; head?: { sha?: string } }; number?: number };
  const pr = event.pull_request;
  return { number: pr?.number ?? event.number, baseSha: pr?.base?.sha, headSha: pr?.head?.sha };
}

interface BaseSide {
  deployments?: Deployment[];
  spec?: Spec;
  environment?: EnvironmentSpec;
  note?: string;
}

function validateHours(hours: number): void {
  if (!(hours > 0 && hours <= 744)) {
    throw new DeployError(`input \`hours-per-month\` is ${hours}, which is not valid`, { title: 'Invalid input', hint: 'A number of hours from 1 to 744 (730 is the AWS calculator convention, some teams use 720).' });
  }
}

/** The deployments of `spec` to compare: one by name (absent on the base: none), or all. */
function pickDeployments(spec: Spec, name: string | undefined): Deployment[] {
  if (!name) return Object.values(spec.deployments);
  const one = spec.deployments[name];
  return one ? [one] : [];
}

/** The base side: read when there is a base to compare with, else undefined deployments. */
async function readBase(o: EstimateCostOptions, baseRef: string | undefined, headEnvironment: EnvironmentSpec | undefined): Promise<BaseSide> {
  if (!o.baseConfig && !baseRef) {
    o.reporter.info('No base to compare with (not a pull request, and neither base-ref nor base-config given).');
    return { environment: headEnvironment };
  }
  const read = await readBaseSpec({ workspace: o.workspace, config: o.config, baseRef, baseConfig: o.baseConfig });
  o.reporter.info(`Comparing with the base: ${read.label}`);
  const env = o.environment ? read.spec?.environments[o.environment] : undefined;
  return {
    deployments: read.spec ? pickDeployments(read.spec, o.deployment) : [],
    spec: read.spec,
    environment: env ?? headEnvironment,
    note: read.spec ? undefined : `The base (${read.label}) has no spec: every deployment is new.`,
  };
}

/** Live prices for what both sides need (when asked for), with notes on where prices came from. */
async function resolvePrices(o: EstimateCostOptions, all: Deployment[], environment: EnvironmentSpec | undefined): Promise<{ book: PriceBook; notes: string[] }> {
  if (!o.livePrices) return { book: new PriceBook(), notes: ['All prices from the catalogue in the repository (live-prices: false).'] };
  const fetched = await fetchLivePrices(neededInstancePrices(all, environment), { reporter: o.reporter });
  const notes = [...fetched.notes];
  if (all.some((d) => d.regions.some((r) => r.startsWith('cn-')))) notes.push('China regions: prices from the catalogue (the China price list is separate).');
  return { book: new PriceBook(undefined, fetched.prices), notes };
}

/** The base priced, or undefined with a note when it cannot be (a type no longer priced). */
function priceBase(o: EstimateCostOptions, base: BaseSide, book: PriceBook): { estimate?: Estimate; note?: string } {
  if (!base.deployments) return {};
  try {
    return { estimate: estimateDeployments(base.deployments, { hoursPerMonth: o.hoursPerMonth, environment: base.environment, prices: book, spec: base.spec }), note: base.note };
  } catch (err) {
    const msg = err instanceof DeployError ? err.message : String(err);
    o.reporter.warning(`The base spec could not be priced (${msg}); showing the new estimate without a comparison.`, undefined, 'Base not priced');
    return { note: `The base spec could not be priced (${msg}): no comparison.` };
  }
}

async function estimate(o: EstimateCostOptions): Promise<{ report: CostReport; result: ResultFile; violations: BudgetViolation[] }> {
  const budget = parseBudget(o.maxMonthlyCost, o.maxMonthlyIncrease);
  validateHours(o.hoursPerMonth);
  const spec = loadSpec(path.resolve(o.workspace, o.config), { displayPath: o.config });
  const environment = o.environment ? selectEnvironment(spec, o.environment) : undefined;
  const head = o.deployment ? [selectDeployment(spec, o.deployment)] : Object.values(spec.deployments);
  const pr = eventPullRequest(o.env);
  const base = await readBase(o, o.baseRef ?? pr.baseSha, environment);
  const { book, notes } = await resolvePrices(o, [...head, ...(base.deployments ?? [])], environment);
  const headEstimate = estimateDeployments(head, { hoursPerMonth: o.hoursPerMonth, environment, prices: book, spec });
  const priced = priceBase(o, base, book);
  const report = buildReport({ project: spec.project, head: headEstimate, base: priced.estimate, baseNote: priced.note, prices: book.usedPrices(), priceNotes: notes });
  const violations = checkBudget(report, budget, formatMoney);
  const marker = commentMarker(o.config);
  const footer = o.env.runUrl ? `<sub>model-deploy estimate-cost · [run](${o.env.runUrl})</sub>` : undefined;
  const body = renderReport(report, { marker, violations, footer });
  const result: ResultFile = {
    ...reportJson(report),
    comment: { marker, body, unchanged: isUnchanged(report), pullRequest: o.prNumber ?? pr.number, headSha: pr.headSha ?? o.env.sha },
    overBudget: violations,
  };
  return { report, result, violations };
}

function readResultFile(file: string): ResultFile {
  let parsed: ResultFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultFile;
  } catch (err) {
    throw new DeployError(`cannot read the estimate result ${file}: ${(err as Error).message}`, {
      title: 'No estimate to post',
      hint: 'In the comment job, download the artifact the estimate job uploaded and point `result-file` at it.',
    });
  }
  const c = parsed.comment;
  // The file may come from a pull request's job: post only a body that is ours and fits.
  if (!c || typeof c.body !== 'string' || typeof c.marker !== 'string' || !/^<!-- model-deploy:estimate-cost config=[^\n]* -->$/.test(c.marker) || !c.body.startsWith(c.marker) || c.body.length > GITHUB_COMMENT_LIMIT) {
    throw new DeployError(`${file} is not an estimate-cost result (no valid comment in it)`, { title: 'Invalid estimate result' });
  }
  return parsed;
}

function writeOutputs(r: Reporter, result: ResultFile, resultFile: string): void {
  const totals = result.totalsByCurrency;
  const only = totals.length === 1 ? totals[0] : undefined;
  const joined = (pick: (t: (typeof totals)[number]) => string | null) =>
    only ? pick(only) ?? '' : totals.map((t) => `${pick(t) ?? ''} ${t.currency}`).join('; ');
  r.setOutput('total-monthly-cost', joined((t) => t.totalMonthlyCost));
  r.setOutput('total-monthly-cost-max', joined((t) => t.totalMonthlyCostMax));
  r.setOutput('past-total-monthly-cost', joined((t) => t.pastTotalMonthlyCost));
  r.setOutput('diff-monthly-cost', joined((t) => t.diffTotalMonthlyCost));
  r.setOutput('diff-percent', joined((t) => t.diffPercent));
  r.setOutput('one-time-cost', joined((t) => t.totalOneTimeCost));
  r.setOutput('currency', totals.map((t) => t.currency).join(','));
  r.setOutput('result-file', resultFile);
  r.setOutput('over-budget', String(result.overBudget.length > 0));
}

/** estimate-cost's one domain call. */
export async function estimateCost(target: CostTarget, request: CostRequest, run: RunContext): Promise<EstimateCostResult> {
  return runEstimateCost({ ...target, ...request, env: run.env, reporter: run.reporter });
}

export async function runEstimateCost(o: EstimateCostOptions): Promise<EstimateCostResult> {
  const resultPath = path.resolve(o.workspace, o.resultFile);
  let result: ResultFile;
  let report: CostReport | undefined;
  if (o.mode === 'comment') {
    result = readResultFile(resultPath);
  } else {
    const done = await estimate(o);
    result = done.result;
    report = done.report;
    fs.mkdirSync(path.dirname(resultPath), { recursive: true });
    fs.writeFileSync(resultPath, JSON.stringify(result, null, 2) + '\n');
    for (const line of summaryLines(report)) o.reporter.info(line);
    await o.reporter.summary(renderReport(report, { violations: result.overBudget, limit: 1_000_000 }));
  }
  writeOutputs(o.reporter, result, o.resultFile);

  let commentUrl: string | undefined;
  if (o.mode !== 'estimate') {
    commentUrl = await comment(o, result);
  }
  o.reporter.setOutput('comment-url', commentUrl ?? '');
  if (result.overBudget.length > 0 && o.mode !== 'comment') {
    throw new DeployError(`over budget: ${result.overBudget.map((v) => v.message).join('; ')}`, {
      title: 'Cost guardrail',
      hint: 'Lower the instance type or count, or raise max-monthly-cost / max-monthly-increase if the increase is intended.',
    });
  }
  return { report, result, commentUrl, violations: result.overBudget };
}

async function comment(o: EstimateCostOptions, result: ResultFile): Promise<string | undefined> {
  const repository = o.env.repository;
  const [owner, repo] = (repository ?? '').split('/');
  const event = o.env.event() as { workflow_run?: { head_sha?: string; pull_requests?: { number: number }[] } };
  let number = o.prNumber ?? eventPullRequest(o.env).number ?? event.workflow_run?.pull_requests?.[0]?.number;
  let verifySha: string | undefined;
  if (number === undefined && o.mode === 'comment' && result.comment.pullRequest !== undefined) {
    // A number read from the file (fork PRs have none in workflow_run): trust it only if that PR's head is the run's commit.
    number = result.comment.pullRequest;
    verifySha = event.workflow_run?.head_sha;
    if (!verifySha) throw new DeployError('the pull request number comes from the result file, but this is not a workflow_run event to check it against', { title: 'Which pull request?', hint: 'Pass `pr-number` explicitly.' });
  }
  if (number === undefined || !owner || !repo) {
    o.reporter.info('Not a pull request (no pr-number and no pull_request event): no comment posted.');
    return undefined;
  }
  if (!o.token) {
    throw new DeployError('input `github-token` is empty, so the PR comment cannot be posted', { title: 'Missing input', hint: 'Pass a token with pull-requests: write, or use mode: estimate.' });
  }
  if (verifySha) await verifyPullHead({ token: o.token, apiUrl: o.env.apiUrl, owner, repo, number, sha: verifySha, retryBaseMs: o.retryBaseMs });
  const posted = await postComment({
    token: o.token,
    apiUrl: o.env.apiUrl,
    owner,
    repo,
    issueNumber: number,
    marker: result.comment.marker,
    body: result.comment.body,
    behavior: o.behavior,
    skipIfUnchanged: o.skipIfUnchanged,
    unchanged: result.comment.unchanged,
    reporter: o.reporter,
    retryBaseMs: o.retryBaseMs,
  });
  o.reporter.info(posted.action === 'skipped' ? `PR comment skipped: ${posted.reason}.` : `PR comment ${posted.action}: ${posted.url}`);
  return posted.url;
}
