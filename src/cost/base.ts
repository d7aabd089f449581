/**
 * The spec on the base branch, to compare with. With a token: GitHub's contents API at the base sha,
 * one request (actions/checkout fetches one commit by default, so git would first have to fetch the
 * base commit: a subprocess and a round trip to the remote). Without a token, or when the API fails: `git
 * fetch --depth=1 origin <sha>` when the clone lacks the commit, then `git show <sha>:<config>` (no shell).
 * Only a 404 from the API for a ref the API resolves, or git's "does not exist in <sha>" with the commit
 * present, means the base has no spec (every deployment new); any other failure leaves the base unknown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { errorMessage } from '../core/errors';
import { git } from '../core/git';
import { GitHubApi, gitHubApi } from '../core/github';
import type { BaseTree } from './benchmarks';
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
  /** For the contents API, tried before git (one request where git needs a fetch of the commit). */
  github?: GitHubTarget;
  /** The client for `github`, when the caller has one already. */
  api?: GitHubApi;
}

export interface GitHubTarget {
  token: string;
  apiUrl: string;
  owner: string;
  repo: string;
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

const repoRoute = (o: GitHubTarget) => `/repos/${encodeURIComponent(o.owner)}/${encodeURIComponent(o.repo)}`;
const filePath = (file: string) => file.split('/').map(encodeURIComponent).join('/');
const statusOf = (err: unknown) => (err as { status?: number }).status;

/**
 * GET /repos/{owner}/{repo}/contents/{path}?ref=<ref>, raw. GitHub answers 404 for a missing file and for a ref it
 * does not know alike, so a 404 means "absent" only once GET /repos/{owner}/{repo}/commits/{ref} (the sha media
 * type: 40 characters, not the whole commit) found the ref.
 */
async function readWithApi(api: GitHubApi, o: GitHubTarget, ref: string, file: string): Promise<Read> {
  try {
    const res = await api.request<string>('GET', `${repoRoute(o)}/contents/${filePath(file)}?ref=${encodeURIComponent(ref)}`, { accept: 'application/vnd.github.raw+json' });
    return { text: typeof res.data === 'string' ? res.data : JSON.stringify(res.data) };
  } catch (err) {
    if (statusOf(err) !== 404) return { error: `GitHub contents API: ${errorMessage(err)}` };
  }
  try {
    await api.request('GET', `${repoRoute(o)}/commits/${encodeURIComponent(ref)}`, { accept: 'application/vnd.github.sha' });
    return { absent: true };
  } catch (err) {
    return { error: `GitHub knows no commit ${ref} in ${o.owner}/${o.repo} (${errorMessage(err).split('\n')[0]})` };
  }
}

/**
 * The base commit's tree through the contents API, for the benchmark results (benchmarks.ts): a directory's
 * regular files (type "file" with a size; GitHub lists a submodule as a "file" too, and its blob read fails), and
 * each read as a raw blob. A 404 for the directory is an absent directory (the ref is known: the spec was read).
 */
export function apiTree(api: GitHubApi, o: GitHubTarget, ref: string): BaseTree {
  return {
    async list(dir) {
      try {
        const res = await api.request<{ type?: string; name?: string; size?: number; sha?: string }[]>('GET', `${repoRoute(o)}/contents/${filePath(dir)}?ref=${encodeURIComponent(ref)}`);
        if (!Array.isArray(res.data)) return undefined;
        return res.data.flatMap((e) => (e.type === 'file' && e.name && e.sha && typeof e.size === 'number' ? [{ name: e.name, size: e.size, id: e.sha }] : []));
      } catch (err) {
        return statusOf(err) === 404 ? [] : undefined;
      }
    },
    async read(id) {
      try {
        const res = await api.request<string>('GET', `${repoRoute(o)}/git/blobs/${encodeURIComponent(id)}`, { accept: 'application/vnd.github.raw+json' });
        return typeof res.data === 'string' ? res.data : undefined;
      } catch {
        return undefined;
      }
    },
  };
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
  let read: Read | undefined;
  if (options.github) read = await readWithApi(options.api ?? (await gitHubApi(options.github.token, options.github.apiUrl)), options.github, ref, rel);
  if (!read || 'error' in read) {
    // No token, or the API failed (a token without contents: read): git, fetching the one commit.
    const viaGit = await readWithGit(options.workspace, ref, rel);
    read = 'error' in viaGit && read && 'error' in read ? { error: `${read.error}; ${viaGit.error}` } : viaGit;
  }
  if ('error' in read) return { label: ref, unknown: `the base spec could not be read at ${ref.slice(0, 12)} (${read.error})` };
  if ('absent' in read) return { label: `${ref} (no ${rel} there: every deployment is new)` };
  return parseBase(read.text, ref, `${rel}@${ref.slice(0, 12)}`, options.workspace);
}
