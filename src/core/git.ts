/**
 * One git command in the checkout: its output, or ok false with git's message. Never throws (the
 * callers decide what a failure means). child_process is loaded on the first call: most runs of an
 * action never run git.
 */
export interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function git(cwd: string, args: string[], maxBuffer = 64 * 1024 * 1024): Promise<GitResult> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execFile } = require('child_process') as typeof import('child_process');
  return new Promise((resolve) => {
    execFile('git', args, { cwd, maxBuffer }, (err, stdout, stderr) => resolve({ ok: !err, stdout, stderr: String(stderr || err?.message || '') }));
  });
}
