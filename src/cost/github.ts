/**
 * The one PR comment: found again by its hidden marker, written per `comment-behavior` (update in
 * place, new, delete-and-new, hide-and-new via GraphQL minimizeComment), skipped when nothing
 * changed, retried with back-off on GitHub's transient errors (5xx, 429, rate limits: src/core/github.ts).
 * Through the small REST client of src/core/github.ts, not getOctokit: see there why.
 */
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { mapLimit } from '../core/concurrency';
import { GITHUB_COMMENT_LIMIT } from './render';
import { GitHubApi, gitHubApi } from '../core/github';

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
  /** The client to post with, when the caller has one already (one connection for the run's requests). */
  api?: GitHubApi;
  /** Our earlier comments, when the caller started listing them before the estimate (listOurComments). */
  ours?: Promise<IssueComment[]>;
}

export interface PostCommentResult {
  action: 'created' | 'updated' | 'skipped';
  url?: string;
  reason?: string;
}

export interface IssueComment {
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
export async function tokenLogin(api: GitHubApi, token: string): Promise<string> {
  if (token.startsWith('ghs_')) return ACTIONS_BOT;
  try {
    const res = await api.request<{ login?: string }>('GET', '/user');
    if (res.data.login) return res.data.login;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== 403 && status !== 401) throw err;
  }
  return ACTIONS_BOT;
}

/** For callers on getOctokit (the bill issue): 5xx, 429 and rate-limit 403s are worth another try. */
export function isTransientGitHubError(err: unknown): boolean {
  const status = (err as { status?: number }).status;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  return status === 403 && /rate limit/i.test(errorMessage(err));
}

const repoPath = (o: { owner: string; repo: string }) => `/repos/${encodeURIComponent(o.owner)}/${encodeURIComponent(o.repo)}`;

/**
 * Our earlier comments: the marker, and written by the login this token posts as (nobody else's). Needs
 * nothing of the estimate: the estimate-and-comment run starts it first, so its round trips to GitHub
 * overlap the spec reads and the pricing. Handled (a failure is thrown where the comment is written).
 */
export function listOurComments(api: GitHubApi, o: Pick<PostCommentOptions, 'token' | 'owner' | 'repo' | 'issueNumber' | 'marker'>): Promise<IssueComment[]> {
  // Side by side: neither waits for the other.
  const listed = Promise.all([tokenLogin(api, o.token), api.paginate<IssueComment>(`${repoPath(o)}/issues/${o.issueNumber}/comments?per_page=100`)]).then(([login, all]) =>
    all.filter((c) => c.user?.login === login && c.body?.includes(o.marker)),
  );
  listed.catch(() => undefined);
  return listed;
}

/** Removes (delete) or collapses (hide) earlier copies, a few at a time (each is its own request). */
async function retire(api: GitHubApi, o: PostCommentOptions, comments: IssueComment[], how: 'delete' | 'hide'): Promise<void> {
  await mapLimit(comments, 4, (c) =>
    how === 'delete'
      ? api.request('DELETE', `${repoPath(o)}/issues/comments/${c.id}`)
      : api.graphql('mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { minimizedComment { isMinimized } } }', { id: c.node_id }),
  );
}

async function writeComment(api: GitHubApi, o: PostCommentOptions): Promise<PostCommentResult> {
  const ours = await (o.ours ?? listOurComments(api, o));
  const latest = ours[ours.length - 1];
  const older = ours.slice(0, -1);
  const same = latest !== undefined && latest.body === o.body;
  if (same && (o.behavior === 'update' || o.skipIfUnchanged)) {
    if (o.behavior === 'update') await retire(api, o, older, 'delete');
    return { action: 'skipped', url: latest.html_url, reason: 'the comment already says this' };
  }
  if (o.skipIfUnchanged && !latest && o.unchanged) return { action: 'skipped', reason: 'the estimate did not change (skip-if-unchanged)' };
  if (o.behavior === 'update' && latest) {
    // Copies left by earlier `new` runs go: update keeps one comment. Neither request waits for the other.
    const [res] = await Promise.all([api.request<IssueComment>('PATCH', `${repoPath(o)}/issues/comments/${latest.id}`, { body: { body: o.body } }), retire(api, o, older, 'delete')]);
    return { action: 'updated', url: res.data.html_url };
  }
  if (o.behavior === 'delete-and-new') await retire(api, o, ours, 'delete');
  if (o.behavior === 'hide-and-new') await retire(api, o, ours, 'hide');
  const res = await api.request<IssueComment>('POST', `${repoPath(o)}/issues/${o.issueNumber}/comments`, { body: { body: o.body } });
  return { action: 'created', url: res.data.html_url };
}

export async function postComment(o: PostCommentOptions): Promise<PostCommentResult> {
  if (o.body.length > GITHUB_COMMENT_LIMIT) throw new DeployError(`comment body is ${o.body.length} characters, above GitHub's limit of ${GITHUB_COMMENT_LIMIT}`);
  const api = o.api ?? (await gitHubApi(o.token, o.apiUrl, { retryBaseMs: o.retryBaseMs }));
  try {
    return await writeComment(api, o);
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
  const api = await gitHubApi(o.token, o.apiUrl, { retryBaseMs: o.retryBaseMs });
  const res = await api.request<{ head: { sha: string } }>('GET', `${repoPath(o)}/pulls/${o.number}`);
  if (res.data.head.sha !== o.sha) {
    throw new DeployError(`the result file names pull request #${o.number}, whose head ${res.data.head.sha.slice(0, 12)} is not the commit this run estimated (${o.sha.slice(0, 12)})`, {
      title: 'Pull request mismatch',
      hint: 'Nothing was posted. Pass `pr-number` explicitly if this is intended.',
    });
  }
}
