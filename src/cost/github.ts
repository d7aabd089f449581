/**
 * The one PR comment: found again by its hidden marker, written per `comment-behavior` (update in
 * place, new, delete-and-new, hide-and-new via GraphQL minimizeComment), skipped when nothing
 * changed, retried with back-off on GitHub's transient errors (5xx, 429, secondary rate limits).
 */
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { withRetries } from '../core/poll';
import { GITHUB_COMMENT_LIMIT } from './render';
import { githubClient } from '../core/github';

export const COMMENT_BEHAVIORS = ['update', 'new', 'delete-and-new', 'hide-and-new'] as const;
export type CommentBehavior = (typeof COMMENT_BEHAVIORS)[number];

export interface PostCommentOptions {
  token: string;
  apiUrl: string;
  owner: string;
  repo: string;
  issueNumber: number;
  marker: string;
  body: string;
  behavior: CommentBehavior;
  skipIfUnchanged: boolean;
  /** The estimate equals the base's. */
  unchanged: boolean;
  reporter: Reporter;
  /** Retry pacing (tests make it short). */
  retryBaseMs?: number;
}

export interface PostCommentResult {
  action: 'created' | 'updated' | 'skipped';
  url?: string;
  reason?: string;
}

interface IssueComment {
  id: number;
  node_id: string;
  body?: string;
  html_url: string;
}

export function isTransientGitHubError(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  return status === 403 && /rate limit/i.test(errorMessage(err));
}

export async function postComment(o: PostCommentOptions): Promise<PostCommentResult> {
  if (o.body.length > GITHUB_COMMENT_LIMIT) throw new DeployError(`comment body is ${o.body.length} characters, above GitHub's limit of ${GITHUB_COMMENT_LIMIT}`);
  const octokit = githubClient(o.token, o.apiUrl);
  const retry = <T>(fn: () => Promise<T>) => withRetries(fn, { attempts: 5, baseDelayMs: o.retryBaseMs ?? 1000, retryable: isTransientGitHubError });
  const target = { owner: o.owner, repo: o.repo };
  try {
    const all = await retry(() => octokit.paginate(octokit.rest.issues.listComments, { ...target, issue_number: o.issueNumber, per_page: 100 }));
    const ours = (all as IssueComment[]).filter((c) => c.body?.includes(o.marker));
    const latest = ours[ours.length - 1];
    if (latest && latest.body === o.body && o.behavior === 'update') return { action: 'skipped', url: latest.html_url, reason: 'the comment already says this' };
    if (o.skipIfUnchanged && latest && latest.body === o.body) return { action: 'skipped', url: latest.html_url, reason: 'the comment already says this' };
    if (o.skipIfUnchanged && !latest && o.unchanged) return { action: 'skipped', reason: 'the estimate did not change (skip-if-unchanged)' };

    if (o.behavior === 'update' && latest) {
      const res = await retry(() => octokit.rest.issues.updateComment({ ...target, comment_id: latest.id, body: o.body }));
      return { action: 'updated', url: res.data.html_url };
    }
    if (o.behavior === 'delete-and-new') {
      for (const c of ours) await retry(() => octokit.rest.issues.deleteComment({ ...target, comment_id: c.id }));
    }
    if (o.behavior === 'hide-and-new') {
      for (const c of ours) {
        await retry(() =>
          octokit.graphql('mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { minimizedComment { isMinimized } } }', { id: c.node_id }),
        );
      }
    }
    const res = await retry(() => octokit.rest.issues.createComment({ ...target, issue_number: o.issueNumber, body: o.body }));
    return { action: 'created', url: res.data.html_url };
  } catch (err) {
    if (err instanceof DeployError) throw err;
    const status = (err as { status?: number }).status;
    throw new DeployError(`posting the cost comment on ${o.owner}/${o.repo}#${o.issueNumber} failed: ${status ? `HTTP ${status}: ` : ''}${errorMessage(err)}`, {
      title: 'PR comment failed',
      cause: err,
      hint:
        status === 403 || status === 404
          ? 'The token cannot write pull request comments: give the job `permissions: pull-requests: write` (for pull requests from forks, post from a separate workflow_run job, see docs/cost.md).'
          : 'GitHub kept failing after retries; re-run the job.',
    });
  }
}

/** Checks that pull request `number` has head commit `sha` (a PR number read from an untrusted file). */
export async function verifyPullHead(o: { token: string; apiUrl: string; owner: string; repo: string; number: number; sha: string; retryBaseMs?: number }): Promise<void> {
  const octokit = githubClient(o.token, o.apiUrl);
  const res = await withRetries(() => octokit.rest.pulls.get({ owner: o.owner, repo: o.repo, pull_number: o.number }), {
    baseDelayMs: o.retryBaseMs ?? 1000,
    retryable: isTransientGitHubError,
  });
  if (res.data.head.sha !== o.sha) {
    throw new DeployError(`the result file names pull request #${o.number}, whose head ${res.data.head.sha.slice(0, 12)} is not the commit this run estimated (${o.sha.slice(0, 12)})`, {
      title: 'Pull request mismatch',
      hint: 'Nothing was posted. Pass `pr-number` explicitly if this is intended.',
    });
  }
}
