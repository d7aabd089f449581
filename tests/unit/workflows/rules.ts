/**
 * Security rules for GitHub workflow files, checked on the parsed YAML (plus the raw lines for pin comments).
 * Each finding names the file, the job (and step) and the rule, so a failing test says what to fix.
 */
import { parse } from 'yaml';

export interface Finding {
  rule:
    | 'unpinned-action'
    | 'missing-pin-comment'
    | 'expression-in-run'
    | 'missing-permissions'
    | 'id-token-without-role'
    | 'pr-code-in-privileged-trigger'
    | 'aws-without-environment'
    | 'workflow-level-id-token';
  where: string;
  message: string;
}

type Json = Record<string, unknown>;
interface Step extends Json {
  uses?: string;
  run?: string;
  with?: Json;
  name?: string;
  id?: string;
}

const FULL_SHA = /^[0-9a-f]{40}$/;
const CREDENTIALS_ACTION = 'aws-actions/configure-aws-credentials';
// A checkout of the head of a PR or of the run that triggered workflow_run: code we must not run privileged.
const PR_HEAD_REF = /github\.event\.(pull_request\.head|workflow_run\.head)|github\.head_ref|refs\/pull\//;

function triggers(doc: Json): string[] {
  const on = doc.on ?? doc[true as unknown as string]; // YAML 1.1 readers turn `on` into true
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return on && typeof on === 'object' ? Object.keys(on) : [];
}

function stepLabel(step: Step, index: number): string {
  return step.id ?? step.name ?? step.uses ?? `step ${index + 1}`;
}

/** `owner/repo@ref` or `owner/repo/path@ref`: remote, must be pinned; `./x` and `docker://x@sha256:` are fine. */
function checkUses(uses: string, where: string, findings: Finding[]): void {
  if (uses.startsWith('./')) return;
  if (uses.startsWith('docker://')) {
    if (!/@sha256:[0-9a-f]{64}$/.test(uses)) {
      findings.push({ rule: 'unpinned-action', where, message: `${uses}: pin container images by @sha256 digest.` });
    }
    return;
  }
  const at = uses.lastIndexOf('@');
  const ref = at < 0 ? '' : uses.slice(at + 1);
  if (!FULL_SHA.test(ref)) {
    findings.push({
      rule: 'unpinned-action',
      where,
      message: `${uses}: pin third-party actions and workflows to a full 40-character commit SHA (tags and branches can move).`,
    });
  }
}

function assumesRole(steps: Step[]): boolean {
  return steps.some(
    (s) => typeof s.uses === 'string' && s.uses.split('@')[0] === CREDENTIALS_ACTION && Boolean(s.with?.['role-to-assume']),
  );
}

/**
 * id-token: write that signs rather than assumes a role: artifact attestations (Sigstore) and npm provenance.
 * Only the release workflow does this, in jobs that run no project code.
 */
function signsWithOidc(steps: Step[]): boolean {
  return steps.some(
    (s) =>
      (typeof s.uses === 'string' && s.uses.split('@')[0] === 'actions/attest-build-provenance') ||
      (typeof s.run === 'string' && /\bnpm publish\b[^\n]*--provenance\b/.test(s.run)),
  );
}

function touchesAws(steps: Step[]): boolean {
  return steps.some((s) => typeof s.uses === 'string' && s.uses.split('@')[0] === CREDENTIALS_ACTION);
}

/**
 * The one job that must run without an environment (issue 20.1): it assumes only the provenance recorder, whose
 * trust names a ref (repo:OWNER/REPO:ref:REF) and no environment, and runs only for a build of a protected ref.
 */
function recordsProvenanceOnly(job: Json, steps: Step[]): boolean {
  const roles = steps.filter((s) => typeof s.uses === 'string' && s.uses.split('@')[0] === CREDENTIALS_ACTION).map((s) => String(s.with?.['role-to-assume'] ?? ''));
  const condition = String(job.if ?? '');
  return roles.length > 0 && roles.every((r) => /^\$\{\{ fromJSON\(inputs\.recorder-roles \|\| '\{\}'\)\[inputs\.environment\] \}\}$/.test(r)) && /github\.ref\b/.test(condition) && /inputs\.protected-refs/.test(condition);
}

function permissionsOf(value: unknown): Json | 'write-all' | 'read-all' | undefined {
  if (value === 'write-all' || value === 'read-all') return value;
  return value && typeof value === 'object' ? (value as Json) : undefined;
}

export function checkWorkflow(text: string, file: string): Finding[] {
  const findings: Finding[] = [];
  const doc = parse(text) as Json;
  const on = triggers(doc);
  const privileged = on.includes('pull_request_target') || on.includes('workflow_run');

  if (doc.permissions === undefined) {
    findings.push({ rule: 'missing-permissions', where: file, message: 'no top-level permissions block (set `permissions: {}` and grant per job).' });
  }
  const top = permissionsOf(doc.permissions);
  if (top === 'write-all' || (top && typeof top === 'object' && top['id-token'] === 'write')) {
    findings.push({ rule: 'workflow-level-id-token', where: file, message: 'id-token: write (or write-all) at workflow level; grant it only to the job that assumes a role.' });
  }

  const jobs = (doc.jobs ?? {}) as Record<string, Json>;
  for (const [jobId, job] of Object.entries(jobs)) {
    const where = `${file} > jobs.${jobId}`;
    if (job.permissions === undefined) {
      findings.push({ rule: 'missing-permissions', where, message: 'no job-level permissions block (ask for only what this job needs).' });
    }
    if (typeof job.uses === 'string') checkUses(job.uses, where, findings);
    const steps = (Array.isArray(job.steps) ? job.steps : []) as Step[];
    const perms = permissionsOf(job.permissions);
    const wantsIdToken = perms === 'write-all' || (typeof perms === 'object' && perms['id-token'] === 'write');
    // A job calling a reusable workflow grants id-token to the callee, which assumes the role.
    if (wantsIdToken && typeof job.uses !== 'string' && !assumesRole(steps) && !signsWithOidc(steps)) {
      findings.push({ rule: 'id-token-without-role', where, message: 'id-token: write but no configure-aws-credentials step with role-to-assume.' });
    }
    if (touchesAws(steps) && job.environment === undefined && !recordsProvenanceOnly(job, steps)) {
      findings.push({
        rule: 'aws-without-environment',
        where,
        message: 'this job gets AWS credentials but has no environment:, so its OIDC subject does not name an environment.',
      });
    }
    steps.forEach((step, index) => {
      const stepWhere = `${where} > ${stepLabel(step, index)}`;
      if (typeof step.uses === 'string') checkUses(step.uses, stepWhere, findings);
      if (typeof step.run === 'string') {
        for (const match of step.run.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
          findings.push({
            rule: 'expression-in-run',
            where: stepWhere,
            message: `\${{${match[1]}}} is interpolated into a run script; pass it through env: and use "$NAME".`,
          });
        }
      }
      if (privileged && typeof step.uses === 'string' && step.uses.split('@')[0] === 'actions/checkout') {
        const ref = String(step.with?.ref ?? '');
        const repository = String(step.with?.repository ?? '');
        if (PR_HEAD_REF.test(ref) || PR_HEAD_REF.test(repository)) {
          findings.push({
            rule: 'pr-code-in-privileged-trigger',
            where: stepWhere,
            message: `checks out pull request code (${ref || repository}) in a ${on.filter((t) => t === 'pull_request_target' || t === 'workflow_run').join('/')} workflow, which runs with secrets and a write token.`,
          });
        }
      }
    });
  }

  // Pinned uses must say which release the SHA is, so updates can be reviewed.
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*([^\s#]+)\s*(#.*)?$/.exec(line);
    if (!m) return;
    const [, uses, comment] = m;
    const ref = uses.slice(uses.lastIndexOf('@') + 1);
    if (FULL_SHA.test(ref) && !/^#\s*v\d+(\.\d+)*\b/.test(comment ?? '')) {
      findings.push({ rule: 'missing-pin-comment', where: `${file}:${i + 1}`, message: `${uses}: add the release it pins, e.g. "# v5.0.0".` });
    }
  });
  return findings;
}
