/**
 * estimate-cost: price the spec on the PR head and on the base, write the JSON result, post (or
 * update) the one PR comment, and say what the action outputs and whether a guardrail failed.
 * The estimate needs no AWS credentials and no write token; `mode: comment` posts for a result
 * file another job wrote (the workflow_run pattern for pull requests from forks): it re-derives
 * every figure from the catalogue (artifact.ts), checks its own budget, and renders the comment itself.
 */
import { partitionOf } from '../core/aws';
import * as fs from 'fs';
import * as path from 'path';
import { DeployError, errorMessage } from '../core/errors';
import type { RunContext } from '../core/action';
import type { Reporter } from '../core/log';
import type { TargetInputs } from '../config/select';
import type { EnvInputs } from '../core/env';
import { loadSpec, parseSpec } from '../config/load';
import { selectDeployment, selectEnvironment } from '../config/select';
import type { BedrockDeployment, Deployment, EnvironmentSpec, Spec } from '../config/types';
import { estimateChecks } from '../fit/check';
import { Artifact, CommentFigures, readArtifact } from './artifact';
import { apiTree, readBaseSpec, type BaseSpec } from './base';
import { GitHubApi, gitHubApi } from '../core/github';
import { writeJsonFile } from './result-file';
import { attachBaseBenchmarks, attachBenchmarks, DEFAULT_BENCHMARK_RESULTS, readBaseResults } from './benchmarks';
import type { ResultSet } from '../benchmark/results';
import { Estimate, PriceBook, estimateDeployments, resolveImageTags } from './estimate';
import { CommentBehavior, IssueComment, listOurComments, postComment, verifyPullHead } from './github';
import { fetchLivePrices, neededInstancePrices } from './live';
// The quota and bill checks are loaded only when asked for: they bring the AWS SDK (Service Quotas, Cost
// Explorer), ~300 KB a PR-comment run without them would parse and evaluate for nothing.
import type { EstimateBill } from './bill-report';
import { fallbackRangeNotes } from './fallback-range';
import { formatMoney } from './money';
import { Budget, BudgetScope, BudgetViolation, CostReport, ReportJson, buildReport, checkBudget, isUnchanged, parseBudget, reportJson, reportJsonStreamed } from './report';
import { RenderedParts, assembleBody, commentMarker, renderParts, summaryLines } from './render';

export const ESTIMATE_MODES = ['estimate', 'comment', 'estimate-and-comment'] as const;
export type EstimateMode = (typeof ESTIMATE_MODES)[number];

/**
 * What estimate-cost prices: the spec named by `config` (relative to the workspace), every deployment
 * or the one named, for an environment. Not a resolved Target: the estimate prices every deployment
 * when none is named, the base spec is read by the same path at another commit, and comment mode
 * reads no spec at all (the workflow_run job may have no checkout).
 */
export type CostTarget = Omit<TargetInputs, 'region'> & { workspace: string };

/** What estimate-cost asks for, beyond the target. */
export interface CostRequest {
  baseRef?: string;
  baseConfig?: string;
  hoursPerMonth: number;
  livePrices: boolean;
  /** Read the applied Service Quotas and show the headroom at the autoscaling maximum (needs a read-only AWS identity). */
  checkQuotas?: boolean;
  /**
   * Check the deployments the pull request touches against the bill of the last N full days (Cost
   * Explorer; needs a read-only AWS identity, the bootstrap's plan role). 0 or absent: off.
   */
  billDays?: number;
  /** The moment the bill's window ends at (its last full day is the day before); default now. */
  now?: Date;
  maxMonthlyCost?: string;
  maxMonthlyIncrease?: string;
  /** What the guardrails apply to: each currency's total (default) or each deployment. */
  budgetScope?: BudgetScope;
  mode: EstimateMode;
  behavior: CommentBehavior;
  skipIfUnchanged: boolean;
  resultFile: string;
  /** Directory of benchmark results in the repository, relative to the workspace (default .model-deploy/benchmarks/). */
  benchmarkResults?: string;
  prNumber?: number;
  token?: string;
  retryBaseMs?: number;
  /**
   * Given the figures as soon as they exist, before the comment's answer is awaited: the action writes its
   * outputs and the job summary while GitHub answers (the figures do not depend on the comment).
   */
  figuresReady?: (figures: Omit<EstimateCostResult, 'commentUrl' | 'failure'>) => Promise<void> | void;
}

/** One estimate-cost run: the target and request, with the runner's context. */
type EstimateRun = CostTarget & CostRequest & { env: EnvInputs; reporter: Reporter };

/**
 * The GitHub side of an estimate-and-comment run, started before the estimate: one client (one
 * connection, one TLS handshake) for the base's reads and the comment, and our earlier comments listed
 * while the specs are read and priced (on api.github.com each round trip is 50-100 ms).
 */
interface EarlyGitHub {
  api: GitHubApi;
  ours?: Promise<IssueComment[]>;
}

/**
 * The JSON result (infracost-like): the report in one form, which the comment job also re-derives its
 * figures from (see artifact.ts), and where to comment. `budget` and `overBudget` are this job's, for
 * readers of the file: the comment job checks its own.
 */
type ResultFile = ReturnType<typeof reportJsonStreamed> & { comment: CommentFigures; budget: Budget; overBudget: BudgetViolation[] };

export interface EstimateCostResult {
  report: CostReport;
  /** The file written (estimate modes); undefined in comment mode. */
  result?: ResultFile;
  /** Each currency's totals as decimals (the figures the outputs carry). */
  totals: ReportJson['totalsByCurrency'];
  /** The job summary (estimate modes): the report with nothing cut. */
  summary?: string;
  violations: BudgetViolation[];
  /** The PR comment's URL; undefined when none was posted. */
  commentUrl?: string;
  /**
   * What fails the step once the figures are output: the comment that could not be posted, or (estimate
   * modes) the budget guardrail.
   */
  failure?: { stage: 'comment' | 'budget'; error: unknown };
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

/** The target: bedrock deployments of `spec` to compare: one by name, or all. */
function pickBedrock(spec: Spec, name: string | undefined): BedrockDeployment[] {
  if (!name) return Object.values(spec.bedrockDeployments ?? {});
  const one = spec.bedrockDeployments?.[name];
  return one ? [one] : [];
}

/** owner/repo and the token, for reading the base through the contents API when git cannot. */
function githubTarget(o: EstimateRun): { token: string; apiUrl: string; owner: string; repo: string } | undefined {
  const [owner, repo] = (o.env.repository ?? '').split('/');
  return o.token && owner && repo ? { token: o.token, apiUrl: o.env.apiUrl, owner, repo } : undefined;
}

/** The base side: read when there is a base to compare with; unknown (no deployments) when it cannot be read. */
async function readBase(o: EstimateRun, headEnvironment: EnvironmentSpec | undefined, reading: Promise<BaseSpec> | undefined): Promise<BaseSide> {
  if (!reading) {
    o.reporter.info('No base to compare with (not a pull request, and neither base-ref nor base-config given).');
    return { environment: headEnvironment };
  }
  const read = await reading;
  if (read.unknown) {
    o.reporter.warning(`Base unknown: ${read.unknown}. Pricing the head without a comparison.`, undefined, 'Base unknown');
    return { environment: headEnvironment, note: `Base unknown: ${read.unknown}. The head is priced without a comparison.` };
  }
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
async function resolvePrices(o: EstimateRun, all: Deployment[], environment: EnvironmentSpec | undefined): Promise<{ book: PriceBook; notes: string[] }> {
  if (!o.livePrices) return { book: new PriceBook(), notes: ['All prices from the catalogue in the repository (live-prices: false).'] };
  const fetched = await fetchLivePrices(neededInstancePrices(all, environment), { reporter: o.reporter });
  const notes = [...fetched.notes];
  if (all.some((d) => d.regions.some((r) => partitionOf(r) === 'aws-cn'))) notes.push('China regions: prices from the catalogue (the China price list is separate).');
  return { book: new PriceBook(undefined, fetched.prices), notes };
}

/** The base priced, or undefined with a note when it cannot be. */
function priceBase(o: EstimateRun, base: BaseSide, book: PriceBook): { estimate?: Estimate; note?: string } {
  if (!base.deployments) return { note: base.note };
  try {
    const bedrock = base.spec ? pickBedrock(base.spec, o.deployment) : [];
    return { estimate: estimateDeployments(base.deployments, { hoursPerMonth: o.hoursPerMonth, environment: base.environment, environmentName: o.environment, prices: book, spec: base.spec, bedrock }), note: base.note };
  } catch (err) {
    const msg = err instanceof DeployError ? err.message : String(err);
    o.reporter.warning(`The base spec could not be priced (${msg}); showing the new estimate without a comparison.`, undefined, 'Base not priced');
    return { note: `Base unknown: the base spec could not be priced (${msg}). The head is priced without a comparison.` };
  }
}

function footer(env: EnvInputs): string | undefined {
  return env.runUrl ? `<sub>model-deploy estimate-cost · [run](${env.runUrl})</sub>` : undefined;
}

/** bill-days given and not 0 (a value that is not a whole number of days is still validated). */
const billAsked = (o: EstimateRun) => o.billDays !== undefined && o.billDays !== 0;

/**
 * The bill of the deployments the pull request touches, as they run now: the base's definition when the
 * base is known (a deployment new in the PR has no bill), the head's when the base is unknown.
 */
async function readPrBill(o: EstimateRun, head: Deployment[], base: BaseSide, baseDeployments: Deployment[], spec: Spec, environment: EnvironmentSpec | undefined): Promise<EstimateBill> {
  if (!billAsked(o)) return { billed: {}, notes: [] };
  const [{ estimateBill }, { isForkPullRequest }] = await Promise.all([import('./bill-report'), import('./quota-notes')]);
  const touched = new Set(head.map((d) => d.name));
  const deployed = base.deployments ? baseDeployments.filter((d) => touched.has(d.name)) : head;
  return estimateBill(
    { spec: (base.deployments ? base.spec : spec) ?? spec, deployments: deployed, environmentName: o.environment, environment: base.deployments ? base.environment : environment },
    { days: o.billDays ?? 0, now: o.now ?? new Date(), hoursPerMonth: o.hoursPerMonth, fork: isForkPullRequest(o.env), reporter: o.reporter },
  );
}

async function estimate(o: EstimateRun): Promise<{ report: CostReport; result: ResultFile; billed: EstimateBill['billed']; early?: EarlyGitHub }> {
  const budget = parseBudget(o.maxMonthlyCost, o.maxMonthlyIncrease, o.budgetScope);
  validateHours(o.hoursPerMonth);
  if (billAsked(o)) (await import('./bill-report')).validateBillDays(o.billDays as number);
  // The inputs are valid: GitHub's first answers are on their way while the specs are read.
  const early = o.mode === 'estimate-and-comment' ? await startGitHub(o) : undefined;
  const pr = eventPullRequest(o.env);
  const baseRef = o.baseRef ?? pr.baseSha;
  const benchmarkRef = o.baseConfig ? undefined : baseRef;
  const github = benchmarkRef ? githubTarget(o) : undefined;
  // One client for the base's requests and the comment.
  const api = github && (early?.api ?? (await gitHubApi(github.token, github.apiUrl, { retryBaseMs: o.retryBaseMs })));
  const resultsDir = o.benchmarkResults ?? DEFAULT_BENCHMARK_RESULTS;
  // With a token the base's spec and benchmark results are asked for before the head spec is read (its
  // reading needs neither, and their answers arrive meanwhile); else by git once the spec's read has
  // fetched the base commit.
  const viaApi = api && github && benchmarkRef ? readBaseResults(o.workspace, benchmarkRef, resultsDir, apiTree(api, github, benchmarkRef)) : undefined;
  viaApi?.catch(() => undefined);
  const baseOptions = { workspace: o.workspace, config: o.config, baseRef, baseConfig: o.baseConfig, github: githubTarget(o), api };
  // A file or git read starts after the head spec is read: a head spec that fails must not wait on a git fetch.
  const baseRead = api && baseRef ? readBaseSpec(baseOptions) : undefined;
  baseRead?.catch(() => undefined);
  const spec = loadSpec(path.resolve(o.workspace, o.config), { displayPath: o.config });
  const environment = o.environment ? selectEnvironment(spec, o.environment) : undefined;
  // target: bedrock deployments are priced as their provisioned throughput, beside (never as) instance deployments.
  const headBedrock = pickBedrock(spec, o.deployment);
  const head = o.deployment ? (headBedrock.length ? [] : [selectDeployment(spec, o.deployment)]) : Object.values(spec.deployments);
  const base = await readBase(o, environment, baseRead ?? (o.baseConfig || baseRef ? readBaseSpec(baseOptions) : undefined));
  const baseResults = benchmarkRef ? (viaApi ?? Promise.resolve(undefined)).then((r) => r ?? readBaseResults(o.workspace, benchmarkRef, resultsDir)) : undefined;
  // Awaited below; a throw in between must not leave it rejected with no handler.
  baseResults?.catch(() => undefined);
  // Will it deploy (#22): said in the comment; both sides priced at the commits their revisions name now.
  // With the plan role (check-quotas, not a fork), S3 weights the spec gives no size for are listed and sized.
  const withRole = o.checkQuotas && !(await import('./quota-notes')).isForkPullRequest(o.env);
  const checked = await estimateChecks({ spec, deployments: head }, { spec: base.spec, deployments: base.deployments ?? [] }, o.reporter, withRole ? { listS3: async (url, region) => (await import('../core/s3-copy')).listS3Url(url, region) } : {});
  const { book, notes } = await resolvePrices(o, [...head, ...(base.deployments ?? [])], environment);
  if (o.checkQuotas) notes.push(...(await (await import('./quota-notes')).quotaNotes(o.checkQuotas, o.env, o.reporter, head, environment, o.environment)));
  const bill = await readPrBill(o, head, base, checked.base, spec, environment);
  notes.push(...bill.notes);
  const headEstimate = estimateDeployments(checked.head, { hoursPerMonth: o.hoursPerMonth, environment, environmentName: o.environment, prices: book, spec, bedrock: headBedrock });
  notes.push(...fallbackRangeNotes(checked.head, { hoursPerMonth: o.hoursPerMonth, environment, environmentName: o.environment, prices: book, spec }));
  const priced = priceBase(o, { ...base, deployments: base.deployments && checked.base }, book);
  if (priced.estimate) resolveImageTags(headEstimate, priced.estimate, { head: checked.head, base: checked.base, headSpec: spec, baseSpec: base.spec });
  const report = buildReport({ project: spec.project, head: headEstimate, base: priced.estimate, baseNote: priced.note, prices: book.usedPrices(), priceNotes: [...checked.notes, ...notes] });
  await benchmarkColumn(o, report, head, benchmarkRef, baseResults);
  const comment: CommentFigures = { marker: commentMarker(o.config), unchanged: isUnchanged(report), pullRequest: o.prNumber ?? pr.number, headSha: pr.headSha ?? o.env.sha };
  // The infracost-like `projects` are made one at a time as the file is written (reportJsonStreamed).
  const result: ResultFile = { ...reportJsonStreamed(report), budget, comment, overBudget: checkBudget(report, budget, formatMoney) };
  return { report, result, billed: bill.billed, early };
}

/**
 * The $/1M output tokens column from the results directory: at the base commit on a pull request (the
 * PR's own files cannot vouch for themselves), else the checkout's (a push to the branch that holds them).
 */
async function benchmarkColumn(o: EstimateRun, report: CostReport, head: Deployment[], baseRef: string | undefined, results?: Promise<ResultSet | undefined>): Promise<void> {
  const dir = o.benchmarkResults ?? DEFAULT_BENCHMARK_RESULTS;
  const specDir = path.dirname(path.resolve(o.workspace, o.config));
  if (baseRef) await attachBaseBenchmarks(report, head, { workspace: o.workspace, ref: baseRef, dir, specDir, reporter: o.reporter, results });
  else attachBenchmarks(report, head, { dir: path.resolve(o.workspace, dir), specDir, reporter: o.reporter });
}

/** The comment body, rendered here from the figures (never taken from a file). */
function commentBody(o: EstimateRun, a: Artifact, parts: RenderedParts): string {
  return assembleBody(parts, { marker: a.comment.marker, footer: footer(o.env) });
}

/** GitHub's limit on a job summary (1 MiB); the summary keeps under it with room for other steps' lines. */
export const SUMMARY_LIMIT = 1_000_000;

/**
 * comment mode: the figures another job wrote, re-derived (artifact.ts); the budget is this job's own
 * inputs, never the file's, so a pull request cannot loosen it.
 */
async function readResultFile(file: string, o: EstimateRun): Promise<{ artifact: Artifact; violations: BudgetViolation[] }> {
  const budget = parseBudget(o.maxMonthlyCost, o.maxMonthlyIncrease, o.budgetScope);
  validateHours(o.hoursPerMonth);
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DeployError(`cannot read the estimate result ${file}: ${(err as Error).message}`, {
      title: 'No estimate to post',
      hint: 'In the comment job, download the artifact the estimate job uploaded and point `result-file` at it.',
    });
  }
  const artifact = await readArtifact(parsed, file, { hoursPerMonth: o.hoursPerMonth });
  return { artifact, violations: checkBudget(artifact.report, budget, formatMoney) };
}

/**
 * comment mode, issue #22: "will it start" for the comment, computed by this job. The result file's
 * lines are never taken (a fork writes that file): the spec is read at the pull request's head commit as
 * the event names it (workflow_run.head_sha, never the file's), through the contents API, parsed as data
 * (nothing of the pull request runs) and checked by the estimate's own code. Any failure is a note.
 */
async function commentFitNotes(o: EstimateRun, artifact: Artifact): Promise<string[]> {
  const event = o.env.event() as { workflow_run?: { head_sha?: string } };
  const sha = event.workflow_run?.head_sha ?? eventPullRequest(o.env).headSha;
  const github = githubTarget(o);
  const notChecked = (why: string) => [`Will it start: not checked by the comment job (${why}).`];
  if (!sha || !/^[0-9a-f]{40}$/.test(sha)) return notChecked('no head commit in the event to read the spec at');
  if (!github) return notChecked('no token or repository to read the spec with');
  const rel = path.posix.normalize(o.config.split(path.sep).join('/')).replace(/^\.\//, '');
  let text: string;
  try {
    const api = await gitHubApi(github.token, github.apiUrl, { retryBaseMs: o.retryBaseMs });
    const route = `/repos/${encodeURIComponent(github.owner)}/${encodeURIComponent(github.repo)}/contents/${rel.split('/').map(encodeURIComponent).join('/')}?ref=${sha}`;
    text = (await api.request<string>('GET', route, { accept: 'application/vnd.github.raw+json' })).data;
  } catch (err) {
    return notChecked(`${rel} could not be read at ${sha.slice(0, 12)}: ${errorMessage(err).split('\n')[0]}`);
  }
  let spec: Spec;
  try {
    spec = parseSpec(String(text), rel, o.workspace);
  } catch (err) {
    return notChecked(`${rel} at ${sha.slice(0, 12)} is not a valid spec: ${errorMessage(err).split('\n')[0]}`);
  }
  const names = new Set(artifact.report.changes.filter((c) => c.next).map((c) => c.name));
  const head = Object.values(spec.deployments).filter((d) => names.has(d.name));
  // Said in the log, not as annotations: the lines point into the pull request's spec, which this job has not checked out.
  const quiet: Reporter = Object.assign(Object.create(o.reporter) as Reporter, { error: (m: string) => o.reporter.info(m), warning: (m: string) => o.reporter.info(m) });
  return (await estimateChecks({ spec, deployments: head }, { deployments: [] }, quiet)).notes;
}

/**
 * estimate-cost's one domain call: the estimate and its result file (or, in comment mode, the figures
 * another job wrote, validated), then the PR comment. A failure after the figures exist comes back in
 * `failure` rather than as a throw, so the action writes its outputs first.
 */
export async function estimateCost(target: CostTarget, request: CostRequest, run: RunContext): Promise<EstimateCostResult> {
  const o: EstimateRun = { ...target, ...request, env: run.env, reporter: run.reporter };
  const resultPath = path.resolve(o.workspace, o.resultFile);
  let artifact: Artifact;
  let violations: BudgetViolation[];
  let result: ResultFile | undefined;
  let summary: string | undefined;
  // The bill lines come from this job's own reading: comment mode has none (a result file cannot vouch for a bill).
  let billed: EstimateBill['billed'] | undefined;
  let early: EarlyGitHub | undefined;
  if (o.mode === 'comment') {
    ({ artifact, violations } = await readResultFile(resultPath, o));
    artifact.report.priceNotes.unshift(...(await commentFitNotes(o, artifact)));
  } else {
    let report: CostReport;
    ({ report, result, billed, early } = await estimate(o));
    artifact = { report, comment: result.comment };
    violations = result.overBudget;
  }
  // Rendered once: the summary and the comment are the same parts cut to their limits.
  const parts = renderParts(artifact.report, { violations, billed });
  // The comment leaves first: the result file and the summary are written while GitHub answers (a round
  // trip to api.github.com is 50-100 ms). Its failure is said after them, with the figures.
  const posting = o.mode !== 'estimate' ? comment(o, artifact, commentBody(o, artifact, parts), early) : undefined;
  posting?.catch(() => undefined);
  // One turn of the event loop: the request is written to the socket before the file work below blocks it.
  if (posting) await new Promise((resolve) => setImmediate(resolve));
  if (result) {
    fs.mkdirSync(path.dirname(resultPath), { recursive: true });
    // Compact: half the size of an indented file (355 KB for 20 deployments in 2 regions); jq reads it.
    writeJsonFile(resultPath, result);
    for (const line of summaryLines(artifact.report)) o.reporter.info(line);
    summary = assembleBody(parts, { limit: SUMMARY_LIMIT });
  }
  const figures = { report: artifact.report, result, totals: result?.totalsByCurrency ?? reportJson(artifact.report).totalsByCurrency, summary, violations };
  await o.figuresReady?.(figures);
  let commentUrl: string | undefined;
  if (posting) {
    try {
      commentUrl = await posting;
    } catch (error) {
      return { ...figures, failure: { stage: 'comment', error } };
    }
  }
  // In comment mode too: the fork-safe path's guardrail is this step (the pull request's own job can be edited by the PR).
  if (violations.length > 0) {
    const error = new DeployError(`over budget: ${violations.map((v) => v.message).join('; ')}`, {
      title: 'Cost guardrail',
      hint: 'Lower the instance type or count, or raise max-monthly-cost / max-monthly-increase if the increase is intended.',
    });
    return { ...figures, commentUrl, failure: { stage: 'budget', error } };
  }
  return { ...figures, commentUrl };
}

/** The repository and the pull request the comment goes to, as the inputs and the event name them. */
function commentTarget(o: EstimateRun): { owner?: string; repo?: string; number?: number } {
  const [owner, repo] = (o.env.repository ?? '').split('/');
  const event = o.env.event() as { workflow_run?: { pull_requests?: { number: number }[] } };
  return { owner, repo, number: o.prNumber ?? eventPullRequest(o.env).number ?? event.workflow_run?.pull_requests?.[0]?.number };
}

/** estimate-and-comment with a token and a pull request: the client, and our earlier comments asked for now (see EarlyGitHub). */
async function startGitHub(o: EstimateRun): Promise<EarlyGitHub | undefined> {
  const github = githubTarget(o);
  if (!github) return undefined;
  const api = await gitHubApi(github.token, github.apiUrl, { retryBaseMs: o.retryBaseMs });
  const { number } = commentTarget(o);
  if (number === undefined) return { api };
  return { api, ours: listOurComments(api, { token: github.token, owner: github.owner, repo: github.repo, issueNumber: number, marker: commentMarker(o.config) }) };
}

async function comment(o: EstimateRun, artifact: Artifact, body: string, early?: EarlyGitHub): Promise<string | undefined> {
  const { owner, repo, number: named } = commentTarget(o);
  const event = o.env.event() as { workflow_run?: { head_sha?: string } };
  let number = named;
  let verifySha: string | undefined;
  if (number === undefined && o.mode === 'comment' && artifact.comment.pullRequest !== undefined) {
    // A number read from the file (fork PRs have none in workflow_run): trust it only if that PR's head is the run's commit.
    number = artifact.comment.pullRequest;
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
    marker: artifact.comment.marker,
    body,
    behavior: o.behavior,
    skipIfUnchanged: o.skipIfUnchanged,
    // Re-derived, never the file's flag: skip-if-unchanged cannot be used to hide a change.
    unchanged: isUnchanged(artifact.report),
    reporter: o.reporter,
    retryBaseMs: o.retryBaseMs,
    api: early?.api,
    ours: early?.ours,
  });
  o.reporter.info(posted.action === 'skipped' ? `PR comment skipped: ${posted.reason}.` : `PR comment ${posted.action}: ${posted.url}`);
  return posted.url;
}
