/**
 * The bill comparison's doors: the scheduled report (every deployment of a spec in one environment,
 * written to the job summary and to one issue) and the deploy summary's optional section.
 */
import * as path from 'path';
import type { RunContext } from '../core/action';
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { loadSpec } from '../config/load';
import { selectDeployment, selectEnvironment, type Target, type TargetInputs } from '../config/select';
import { compareWithBill, MAX_BILL_DAYS, type BillComparison, type BillTarget } from './bill';
import { billIssueMarker, billMarkdown, billedByDeployment } from './bill-render';
import { upsertReportIssue, type ReportIssueResult } from './bill-issue';

export type BillReportTarget = Omit<TargetInputs, 'region'> & { workspace: string };

export interface BillReportRequest {
  days: number;
  hoursPerMonth?: number;
  /** Open or update the report issue (needs token and GITHUB_REPOSITORY). */
  issue: boolean;
  issueTitle?: string;
  token?: string;
  now?: Date;
  retryBaseMs?: number;
}

export interface BillReportResult {
  comparison: BillComparison;
  markdown: string;
  issue?: ReportIssueResult;
}

/** Every deployment of the spec (or the one named) in one environment, against the bill; the issue when asked. */
export async function reportBill(target: BillReportTarget, request: BillReportRequest, run: RunContext): Promise<BillReportResult> {
  const spec = loadSpec(path.resolve(target.workspace, target.config), { displayPath: target.config });
  const environment = target.environment ? selectEnvironment(spec, target.environment) : undefined;
  const deployments = target.deployment ? [selectDeployment(spec, target.deployment)] : Object.values(spec.deployments);
  const [owner, repo] = (run.env.repository ?? '').split('/');
  // Every check before the first call: a report that cannot be written is not worth a billed query.
  if (request.issue && !(request.token && owner && repo)) {
    throw new DeployError('the cost report cannot open its issue: input `github-token` is empty or GITHUB_REPOSITORY is not set', {
      title: 'Invalid input',
      hint: 'Pass github-token (the default ${{ github.token }} works with `permissions: issues: write`), or set issue: false.',
    });
  }
  const comparison = await compareWithBill(
    { spec, deployments, environmentName: target.environment, environment },
    { days: request.days, now: request.now ?? new Date(), hoursPerMonth: request.hoursPerMonth },
  );
  const markdown = billMarkdown(comparison, '##');
  if (comparison.notice) run.reporter.warning(comparison.notice.message, undefined, comparison.notice.state === 'tags-inactive' ? 'Cost allocation tags not activated' : 'No billing data yet');
  if (!request.issue || !request.token || !owner || !repo) return { comparison, markdown };
  const scope = `${spec.project}${target.environment ? ` (${target.environment})` : ''}`;
  const runUrl = run.env.runUrl ? `\n\n[The run that wrote this](${run.env.runUrl}).` : '';
  const issue = await upsertReportIssue({
    token: request.token,
    apiUrl: run.env.apiUrl,
    owner,
    repo,
    marker: billIssueMarker(spec.project, target.environment),
    title: request.issueTitle || `Cost report: ${scope}, estimate vs bill`,
    body: `${markdown}${runUrl}`,
    retryBaseMs: request.retryBaseMs,
  });
  return { comparison, markdown, issue };
}

/**
 * The deploy summary's section: the deployment's last `days` days against the bill. Never fails the
 * deploy: without ce:GetCostAndUsage, or with no bill to compare yet, it says so in one line or not at all.
 */
export async function deployBillSection(target: Target, days: number, run: RunContext, now: Date = new Date()): Promise<string | undefined> {
  if (days <= 0) return undefined;
  try {
    const c = await compareWithBill(
      { spec: target.spec, deployments: [target.deployment], environmentName: target.environmentName, environment: target.environment },
      { days, now },
    );
    if (c.notice?.state === 'no-data') return undefined;
    return billMarkdown(c);
  } catch (err) {
    run.reporter.info(`Estimate vs bill skipped: ${errorMessage(err)}`);
    return undefined;
  }
}

/** What the PR estimate shows of the bill: lines per deployment (the comment's `billed`), or notes saying why none. */
export interface EstimateBill {
  billed: Record<string, string[]>;
  notes: string[];
}

export interface EstimateBillRequest {
  /** 0: off. */
  days: number;
  now: Date;
  hoursPerMonth?: number;
  /** A pull request from a fork: its job holds no AWS identity (GitHub gives it no OIDC token). */
  fork: boolean;
  reporter: Reporter;
}

/** input `bill-days`: 0 (off) to MAX_BILL_DAYS whole days; checked before anything is read or written. */
export function validateBillDays(days: number, input = 'bill-days'): void {
  if (!Number.isInteger(days) || days < 0 || days > MAX_BILL_DAYS) {
    throw new DeployError(`input \`${input}\` is ${days}, which is not valid`, { title: 'Invalid input', hint: `A whole number of days from 1 to ${MAX_BILL_DAYS}, or 0 to leave the bill out.` });
  }
}

/** Why the bill could not be read, in a few words (the whole error goes to the log). */
function notCheckedReason(err: unknown): string {
  const title = err instanceof DeployError ? err.title : undefined;
  if (title === 'No AWS credentials') return 'the job has no AWS credentials';
  if (title === 'Permission denied') return 'the role may not call ce:GetCostAndUsage';
  return title ? title.toLowerCase() : 'Cost Explorer could not be read';
}

/**
 * The PR estimate's door to the bill: the deployments the pull request touches, as deployed (the base
 * spec), against the last `days` days. Never fails the estimate: a fork, a missing credential or a
 * refused call says "not checked" in one note.
 */
export async function estimateBill(target: BillTarget, request: EstimateBillRequest): Promise<EstimateBill> {
  const none: EstimateBill = { billed: {}, notes: [] };
  if (request.days <= 0 || target.deployments.length === 0) return none;
  const what = `Estimate vs bill, last ${request.days} days`;
  if (request.fork) return { billed: {}, notes: [`${what}: not checked (a pull request from a fork holds no AWS identity).`] };
  try {
    const c = await compareWithBill(target, { days: request.days, now: request.now, hoursPerMonth: request.hoursPerMonth });
    if (c.notice) return { billed: {}, notes: [`${what}: nothing to compare. ${c.notice.message}`] };
    return { billed: billedByDeployment(c), notes: [] };
  } catch (err) {
    request.reporter.info(`${what} not checked: ${err instanceof DeployError ? err.describe() : errorMessage(err)}`);
    return { billed: {}, notes: [`${what}: not checked (${notCheckedReason(err)}).`] };
  }
}
