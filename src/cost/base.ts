/**
 * The spec on the base branch, to compare with. actions/checkout fetches one commit by default, so
 * the base commit is usually not in the clone: fetch that one commit (`git fetch --depth=1 origin
 * <sha>`), then `git show <sha>:<config>` (no shell); failing that, GitHub's contents API at the base
 * sha. Only git's "does not exist in <sha>" with the commit present, or a 404 from the API for a ref the API
 * resolves, means the base has no spec (every deployment new); any other failure leaves the base unknown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { errorMessage } from '../core/errors';
import { git } from '../core/git';
import { githubClient } from '../core/github';
import { parseSpec } from '../config/load';
import type { Spec } from '../config/types';

export interface BaseSpec {
  /** Undefined: the base has no spec (everything is new), or it is unknown (see `unknown`). */
  spec?: Spec;
  /** What was compared with, for the comment. */
  label: string;
  /** Why the base could not be read or parsed: no comparison, the head is priced alone. */
  unknown?: string;
}

export interface BaseOptions {
  workspace: string;
  config: string;
  baseRef?: string;
  baseConfig?: string;
  /** For the contents API when git cannot get the commit. */
  github?: { token: string; apiUrl: string; owner: string; repo: string };
}

type Read = { text: string } | { absent: true } | { error: string };

/**
 * git show of the file at `ref`, fetching that one commit first when the clone lacks it. A branch name
 * fetched into a shallow clone exists only as FETCH_HEAD (no local `main` appears), so that is what is read.
 * The show is tried first: with the commit present (a full clone, a second run) it is the one git process.
 */
async function readWithGit(cwd: string, ref: string, file: string): Promise<Read> {
  let shown = await git(cwd, ['show', `${ref}:${file}`]);
  // "exists on disk, but not in <sha>" is also what git says for a commit the clone lacks: absent only if the commit is here.
  if (!shown.ok && !(ABSENT.test(shown.stderr) && (await hasCommit(cwd, ref)))) {
    // Not here: a depth-1 clone lacks the base commit.
    const fetched = await git(cwd, ['fetch', '--no-tags', '--depth=1', 'origin', ref]);
    if (!fetched.ok) return { error: `git fetch --depth=1 origin ${ref}: ${fetched.stderr.trim().split('\n')[0] || 'commit not found'}` };
    shown = await git(cwd, ['show', `FETCH_HEAD:${file}`]);
  }
  if (shown.ok) return { text: shown.stdout };
  // The commit is here: git's "does not exist in" (or "exists on disk, but not in") now really means absent.
  if (ABSENT.test(shown.stderr)) return { absent: true };
  return { error: shown.stderr.trim().split('\n')[0] ?? 'git show failed' };
}

const hasCommit = async (cwd: string, ref: string) => (await git(cwd, ['cat-file', '-e', `${ref}^{commit}`])).ok;

/** git show's words for a file a commit does not have (or a commit the clone lacks: see hasCommit). */
const ABSENT = /does not exist in|exists on disk, but not in/;

/**
 * GET /repos/{owner}/{repo}/contents/{path}?ref=<ref>. GitHub answers 404 for a missing file and for a ref it
 * does not know alike, so a 404 means "absent" only once GET /repos/{owner}/{repo}/commits/{ref} found the ref.
 */
async function readWithApi(o: NonNullable<BaseOptions['github']>, ref: string, file: string): Promise<Read> {
  let octokit: Awaited<ReturnType<typeof githubClient>> | undefined;
  try {
    octokit = await githubClient(o.token, o.apiUrl);
    const res = await octokit.rest.repos.getContent({ owner: o.owner, repo: o.repo, path: file, ref, mediaType: { format: 'raw' } });
    return { text: typeof res.data === 'string' ? res.data : JSON.stringify(res.data) };
  } catch (err) {
    if (!octokit || (err as { status?: number }).status !== 404) return { error: `GitHub contents API: ${errorMessage(err)}` };
  }
  try {
    await octokit.rest.repos.getCommit({ owner: o.owner, repo: o.repo, ref });
    return { absent: true };
  } catch (err) {
    return { error: `GitHub knows no commit ${ref} in ${o.owner}/${o.repo} (${errorMessage(err).split('\n')[0]})` };
  }
}

/** Path of the spec relative to the repository root (the workspace), as git show and the contents API want it. */
function repoPath(workspace: string, config: string): string {
  return path.relative(workspace, path.resolve(workspace, config)).split(path.sep).join('/');
}

function parseBase(text: string, label: string, display: string, workspace: string): BaseSpec {
  try {
    return { spec: parseSpec(text, display, workspace), label };
  } catch (err) {
    // The PR may be the fix of an invalid base: price the head, show the base as unknown.
    return { label, unknown: `the base spec ${display} is not valid (${errorMessage(err).split('\n')[0]})` };
  }
}

export async function readBaseSpec(options: BaseOptions): Promise<BaseSpec> {
  if (options.baseConfig) {
    const file = path.resolve(options.workspace, options.baseConfig);
    if (!fs.existsSync(file)) return { label: `${options.baseConfig} (absent: every deployment is new)` };
    return parseBase(fs.readFileSync(file, 'utf8'), options.baseConfig, `${options.baseConfig} (base)`, options.workspace);
  }
  const ref = options.baseRef ?? 'HEAD';
  const rel = repoPath(options.workspace, options.config);
  let read = await readWithGit(options.workspace, ref, rel);
  if ('error' in read && options.github) {
    const api = await readWithApi(options.github, ref, rel);
    read = 'error' in api ? { error: `${read.error}; ${api.error}` } : api;
  }
  if ('error' in read) return { label: ref, unknown: `the base spec could not be read at ${ref.slice(0, 12)} (${read.error})` };
  if ('absent' in read) return { label: `${ref} (no ${rel} there: every deployment is new)` };
  return parseBase(read.text, ref, `${rel}@${ref.slice(0, 12)}`, options.workspace);
}
