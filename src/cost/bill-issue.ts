/**
 * The scheduled report's one issue: found again by its hidden marker among the open issues (so a run
 * updates it instead of opening another), created when none carries it, retried on GitHub's
 * transient errors as the PR comment is.
 */
import { DeployError, errorMessage } from '../core/errors';
import { GitHubClient, githubClient } from '../core/github';
import { withRetries } from '../core/poll';
import { isTransientGitHubError } from './github';
import { GITHUB_COMMENT_LIMIT } from './render';

export interface ReportIssueOptions {
  token: string;
  apiUrl: string;
  owner: string;
  repo: string;
  marker: string;
  title: string;
  /** Without the marker: it is put first. */
  body: string;
  labels?: string[];
  retryBaseMs?: number;
}

export interface ReportIssueResult {
  action: 'created' | 'updated' | 'unchanged';
  number: number;
  url: string;
}

interface Issue {
  number: number;
  html_url: string;
  body?: string | null;
  pull_request?: unknown;
}

async function findIssue(octokit: GitHubClient, o: ReportIssueOptions): Promise<Issue | undefined> {
  // The issues list also holds pull requests; ours is an issue whose body starts with the marker.
  const open = (await octokit.paginate(octokit.rest.issues.listForRepo, { owner: o.owner, repo: o.repo, state: 'open', per_page: 100 })) as Issue[];
  return open.find((i) => !i.pull_request && (i.body ?? '').startsWith(o.marker));
}

export async function upsertReportIssue(o: ReportIssueOptions): Promise<ReportIssueResult> {
  const body = `${o.marker}\n${o.body}`;
  if (body.length > GITHUB_COMMENT_LIMIT) throw new DeployError(`the report is ${body.length} characters, above GitHub's limit of ${GITHUB_COMMENT_LIMIT} for an issue body`, { title: 'Report too long', hint: 'Report fewer deployments per run (input `deployment`).' });
  const octokit = await githubClient(o.token, o.apiUrl);
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, { attempts: 5, baseDelayMs: o.retryBaseMs ?? 1000, retryable: isTransientGitHubError });
  try {
    const found = await retry(() => findIssue(octokit, o));
    if (found && found.body === body) return { action: 'unchanged', number: found.number, url: found.html_url };
    if (found) {
      const res = await retry(() => octokit.rest.issues.update({ owner: o.owner, repo: o.repo, issue_number: found.number, title: o.title, body }));
      return { action: 'updated', number: res.data.number, url: res.data.html_url };
    }
    const res = await retry(() => octokit.rest.issues.create({ owner: o.owner, repo: o.repo, title: o.title, body, ...(o.labels?.length ? { labels: o.labels } : {}) }));
    return { action: 'created', number: res.data.number, url: res.data.html_url };
  } catch (err) {
    const status = (err as { status?: number }).status;
    throw new DeployError(`writing the cost report issue on ${o.owner}/${o.repo} failed: ${status ? `HTTP ${status}: ` : ''}${errorMessage(err)}`, {
      title: 'Cost report issue failed',
      cause: err,
      hint: status === 403 || status === 404 || status === 410 ? 'Give the job `permissions: issues: write`, and check that issues are enabled for the repository.' : 'GitHub kept failing after retries; re-run the job.',
    });
  }
}
