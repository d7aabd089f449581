/**
 * Runs a built bundle the way the GitHub runner does: INPUT_* variables, GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY and GITHUB_EVENT_PATH files, fake AWS credentials, and endpoints pointing at
 * loopback servers. Returns everything the process wrote, for assertions and secret greps.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface BundleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** stdout + stderr + outputs + summary: grep this for secrets. */
  all: string;
  dir: string;
}

export interface RunBundleOptions {
  inputs?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** Written to GITHUB_EVENT_PATH. */
  event?: unknown;
  /** GITHUB_WORKSPACE and the process cwd (default: a fresh temp dir). */
  workspace?: string;
  /** Loopback URL for every AWS service (AWS_ENDPOINT_URL). */
  awsEndpoint?: string;
  /** Loopback URL for the GitHub API (GITHUB_API_URL). */
  githubApi?: string;
  /** Sends SIGTERM after this many ms (cancellation tests). */
  killAfterMs?: number;
  /** Bundle path relative to the repo (default dist/<action>/index.js). */
  script?: string;
}

/** Parses the runner's GITHUB_OUTPUT file format (name=value and name<<DELIM heredocs). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      while (++i < lines.length && lines[i] !== delim) value.push(lines[i]);
      out[name] = value.join('\n');
    } else if (line.includes('=')) {
      const at = line.indexOf('=');
      out[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return out;
}

export function runBundle(action: string, options: RunBundleOptions = {}): Promise<BundleRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `md-${action}-`));
  const workspace = options.workspace ?? path.join(dir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const outputFile = path.join(dir, 'output');
  const summaryFile = path.join(dir, 'summary');
  const eventFile = path.join(dir, 'event.json');
  fs.writeFileSync(outputFile, '');
  fs.writeFileSync(summaryFile, '');
  fs.writeFileSync(eventFile, JSON.stringify(options.event ?? {}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'acme/models',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    RUNNER_TEMP: dir,
    // The bundles never reach the public Hugging Face Hub in tests (a test may set HF_ENDPOINT and clear this).
    HF_HUB_OFFLINE: '1',
    AWS_ACCESS_KEY_ID: 'AKIDLOOPBACKTEST',
    AWS_SECRET_ACCESS_KEY: 'loopback-secret-access-key',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    MODEL_DEPLOY_MAX_ATTEMPTS: '2',
  };
  if (options.awsEndpoint) env.AWS_ENDPOINT_URL = options.awsEndpoint;
  if (options.githubApi) env.GITHUB_API_URL = options.githubApi;
  for (const [k, v] of Object.entries(options.inputs ?? {})) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const script = path.join(ROOT, options.script ?? path.join('dist', action, 'index.js'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = options.killAfterMs ? setTimeout(() => child.kill('SIGTERM'), options.killAfterMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const outputs = parseOutputFile(fs.readFileSync(outputFile, 'utf8'));
      const summary = fs.readFileSync(summaryFile, 'utf8');
      resolve({ code, stdout, stderr, outputs, summary, dir, all: [stdout, stderr, JSON.stringify(outputs), summary].join('\n') });
    });
  });
}
