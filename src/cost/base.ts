/**
 * The spec on the base branch, to compare with: `git show <ref>:<config>` (no shell), or a file
 * already on disk. A spec that does not exist on the base means every deployment is new.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from '../core/errors';
import { parseSpec } from '../config/load';
import type { Spec } from '../config/types';

export interface BaseSpec {
  /** Undefined: the base has no spec (everything is new). */
  spec?: Spec;
  /** What was compared with, for the comment. */
  label: string;
}

function gitShow(cwd: string, ref: string, file: string): Promise<{ text?: string; missing?: boolean; error?: string }> {
  return new Promise((resolve) => {
    execFile('git', ['show', `${ref}:${file}`], { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ text: stdout });
      const msg = String(stderr || err.message);
      // Both wordings git uses for a path that is not in that commit.
      if (/does not exist in|exists on disk, but not in/.test(msg)) return resolve({ missing: true });
      resolve({ error: msg.trim().split('\n')[0] });
    });
  });
}

/** Path of the spec relative to the repository root, as git show wants it. */
function repoRelative(workspace: string, config: string): string {
  const rel = path.relative(workspace, path.resolve(workspace, config));
  return rel.split(path.sep).join('/');
}

export async function readBaseSpec(options: { workspace: string; config: string; baseRef?: string; baseConfig?: string }): Promise<BaseSpec> {
  if (options.baseConfig) {
    const file = path.resolve(options.workspace, options.baseConfig);
    if (!fs.existsSync(file)) return { label: `${options.baseConfig} (absent: every deployment is new)` };
    return { spec: parseSpec(fs.readFileSync(file, 'utf8'), `${options.baseConfig} (base)`, options.workspace), label: options.baseConfig };
  }
  const ref = options.baseRef!;
  const rel = repoRelative(options.workspace, options.config);
  const shown = await gitShow(options.workspace, ref, rel);
  if (shown.error) {
    throw new DeployError(`cannot read the base spec with git show ${ref}:${rel}: ${shown.error}`, {
      title: 'Base branch not available',
      hint: 'Check out with history so the base commit is present (actions/checkout with fetch-depth: 0), or pass `base-config` with the base spec as a file.',
    });
  }
  if (shown.missing) return { label: `${ref} (no ${rel} there: every deployment is new)` };
  return { spec: parseSpec(shown.text!, `${rel}@${ref.slice(0, 12)}`, options.workspace), label: ref };
}
