/**
 * The one PR comment: found again by its hidden marker, written per `comment-behavior` (update in
 * place, new, delete-and-new, hide-and-new via GraphQL minimizeComment), skipped when nothing
 * changed, retried with back-off on GitHub's transient errors (5xx, 429, secondary rate limits).
 */
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { withRetries } from '../core/poll';
import { GITHUB_COMMENT_LIMIT } from './render';
import { GitHubClient, githubClient } from '../core/github';

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
  user?: { login?: string } | null;
}

/** The login GITHUB_TOKEN posts as; GET /user answers 403 for it (an installation token). */
export const ACTIONS_BOT = 'github-actions[bot]';

/**
 * Who the token posts as: GET /user for a personal access token; a GITHUB_TOKEN (or another
 * installation token) cannot read /user, and posts as github-actions[bot]. An installation token says
 * so by its prefix (ghs_, GitHub's documented token formats): no round trip that can only answer 403.
 */
export async function tokenLogin(octokit: GitHubClient, token: string): Promise<string> {
  if (token.startsWith('ghs_')) return ACTIONS_BOT;
  try {
    const res = await octokit.request('GET /user');
    const login = (res.data as { login?: string }).login;
    if (login) return login;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== 403 && status !== 401) throw err;
  }
  return ACTIONS_BOT;
}

export function isTransientGitHubError(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  return status === 403 && /rate limit/i.test(errorMessage(err));
}

type Retry = <T>(fn: () => Promise<T>) => Promise<T>;

/** Our earlier comments: the marker, and written by the login this token posts as (nobody else's). */
async function ourComments(octokit: GitHubClient, retry: Retry, o: PostCommentOptions): Promise<IssueComment[]> {
  // Side by side: neither waits for the other.
  const [login, all] = await Promise.all([
    retry(() => tokenLogin(octokit, o.token)),
    retry(() => octokit.paginate(octokit.rest.issues.listComments, { owner: o.owner, repo: o.repo, issue_number: o.issueNumber, per_page: 100 })),
  ]);
  return (all as IssueComment[]).filter((c) => c.user?.login === login && c.body?.includes(o.marker));
}

/** Removes (delete) or collapses (hide) earlier copies. */
async function retire(octokit: GitHubClient, retry: Retry, o: PostCommentOptions, comments: IssueComment[], how: 'delete' | 'hide'): Promise<void> {
  for (const c of comments) {
    if (how === 'delete') await retry(() => octokit.rest.issues.deleteComment({ owner: o.owner, repo: o.repo, comment_id: c.id }));
    else await retry(() => octokit.graphql('mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { minimizedComment { isMinimized } } }', { id: c.node_id }));
  }
}

async function writeComment(octokit: GitHubClient, retry: Retry, o: PostCommentOptions): Promise<PostCommentResult> {
  const ours = await ourComments(octokit, retry, o);
  const latest = ours[ours.length - 1];
  const older = ours.slice(0, -1);
  const same = latest !== undefined && latest.body === o.body;
  if (same && (o.behavior === 'update' || o.skipIfUnchanged)) {
    if (o.behavior === 'update') await retire(octokit, retry, o, older, 'delete');
    return { action: 'skipped', url: latest.html_url, reason: 'the comment already says this' };
  }
  if (o.skipIfUnchanged && !latest && o.unchanged) return { action: 'skipped', reason: 'the estimate did not change (skip-if-unchanged)' };
  if (o.behavior === 'update' && latest) {
    const res = await retry(() => octokit.rest.issues.updateComment({ owner: o.owner, repo: o.repo, comment_id: latest.id, body: o.body }));
    // Copies left by earlier `new` runs go: update keeps one comment.
    await retire(octokit, retry, o, older, 'delete');
    return { action: 'updated', url: res.data.html_url };
  }
  if (o.behavior === 'delete-and-new') await retire(octokit, retry, o, ours, 'delete');
  if (o.behavior === 'hide-and-new') await retire(octokit, retry, o, ours, 'hide');
  const res = await retry(() => octokit.rest.issues.createComment({ owner: o.owner, repo: o.repo, issue_number: o.issueNumber, body: o.body }));
  return { action: 'created', url: res.data.html_url };
}

export async function postComment(o: PostCommentOptions): Promise<PostCommentResult> {
  if (o.body.length > GITHUB_COMMENT_LIMIT) throw new DeployError(`comment body is ${o.body.length} characters, above GitHub's limit of ${GITHUB_COMMENT_LIMIT}`);
  const octokit = await githubClient(o.token, o.apiUrl);
  const retry: Retry = (fn) => withRetries(fn, { attempts: 5, baseDelayMs: o.retryBaseMs ?? 1000, retryable: isTransientGitHubError });
  try {
    return await writeComment(octokit, retry, o);
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
  const octokit = await githubClient(o.token, o.apiUrl);
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
