/**
 * GitHub's OIDC issuer as a job of the fake world meets it: the runner's token request URL and token for a job
 * granted `id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, `&audience=` as @actions/core's getIDToken asks),
 * and tokens that carry the claims GitHub documents (docs.github.com, "OpenID Connect reference": the example
 * token's sub, aud, environment, ref, sha, repository, repository_id, repository_owner_id, job_workflow_ref,
 * event_name, ref_type, ...). The repository uses immutable subject claims (the default for repositories created
 * since June 2026; github/docs#45221): the subject is repo:OWNER@OWNER_ID/REPO@REPO_ID followed by
 * :environment:ENV for a job with an environment, :pull_request for a pull request's job, else :ref:REF.
 * A token is a JWT whose signature only this issuer knows: STS (./world.ts) accepts the tokens it issued.
 */
import { randomBytes } from 'crypto';
import type { RecordedRequest, Reply } from '../loopback';

export interface GitHubRepository {
  /** OWNER/REPO */
  name: string;
  ownerId: string;
  id: string;
}

/** The repository every job of the fake world runs in (the journey's github.repository). */
export const REPOSITORY: GitHubRepository = { name: 'acme/models', ownerId: '1234567', id: '89012345' };

/** What decides a job's claims. */
export interface OidcJob {
  /** The job's GitHub environment; none for a job without `environment:`. */
  environment?: string;
  /** github.ref of the run. */
  ref: string;
  /** github.event_name. */
  eventName: string;
  /** The reusable workflow the job belongs to: OWNER/REPO/.github/workflows/FILE@REF. */
  jobWorkflowRef: string;
  /** The caller's workflow (default: the repository's model-deploy.yml at the run's ref). */
  workflowRef?: string;
  sha?: string;
}

/** The `sub` claim GitHub gives `job` of `repo`. */
export function subjectOf(job: OidcJob, repo: GitHubRepository = REPOSITORY): string {
  const [owner, name] = repo.name.split('/');
  const prefix = `repo:${owner}@${repo.ownerId}/${name}@${repo.id}`;
  if (job.environment) return `${prefix}:environment:${job.environment}`;
  if (job.eventName === 'pull_request') return `${prefix}:pull_request`;
  return `${prefix}:ref:${job.ref}`;
}

/** Every claim of the token GitHub mints for `job` with `audience` (the default audience is the owner's URL). */
export function claimsOf(job: OidcJob, audience: string | undefined, repo: GitHubRepository = REPOSITORY): Record<string, string> {
  const [owner] = repo.name.split('/');
  const sha = job.sha ?? '0123456789abcdef0123456789abcdef01234567';
  const now = Math.floor(Date.now() / 1000);
  return {
    jti: randomBytes(16).toString('hex'),
    sub: subjectOf(job, repo),
    aud: audience || `https://github.com/${owner}`,
    ...(job.environment ? { environment: job.environment } : {}),
    ref: job.ref,
    ref_type: job.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    ref_protected: String(job.ref === 'refs/heads/main'),
    sha,
    repository: repo.name,
    repository_id: repo.id,
    repository_owner: owner,
    repository_owner_id: repo.ownerId,
    repository_visibility: 'private',
    actor: 'octocat',
    actor_id: '583231',
    run_id: '4242',
    run_number: '7',
    run_attempt: '1',
    runner_environment: 'github-hosted',
    event_name: job.eventName,
    head_ref: '',
    base_ref: '',
    workflow: 'model deploy',
    workflow_ref: job.workflowRef ?? `${repo.name}/.github/workflows/model-deploy.yml@${job.ref}`,
    workflow_sha: sha,
    job_workflow_ref: job.jobWorkflowRef,
    job_workflow_sha: '1111111111111111111111111111111111111111',
    iss: 'https://token.actions.githubusercontent.com',
    nbf: String(now - 5),
    iat: String(now),
    exp: String(now + 300),
  };
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export class GitHubOidc {
  /** Runner request token -> the job it was given to. */
  private readonly requests = new Map<string, OidcJob>();
  /** Tokens issued -> their claims. */
  private readonly issued = new Map<string, Record<string, string>>();

  /** `secret` is told every value a log must never show (the request tokens and the tokens). */
  constructor(private readonly secret: (value: string) => void, readonly repo: GitHubRepository = REPOSITORY) {}

  /** The runner's variables for a job with `id-token: write`; `base` is the fake world's URL. */
  requestEnv(base: string, job: OidcJob): Record<string, string> {
    const requestToken = `journey-oidc-request-${randomBytes(8).toString('hex')}`;
    this.requests.set(requestToken, job);
    this.secret(requestToken);
    return { ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/_oidc/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken };
  }

  /** GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with the request token as bearer: {"value": JWT}. */
  token(req: RecordedRequest): Reply {
    const job = this.requests.get(String(req.headers.authorization ?? '').replace(/^Bearer /, ''));
    if (!job) return { status: 401, body: { message: 'bad request token' } };
    const claims = claimsOf(job, new URL(req.path, 'http://x').searchParams.get('audience') ?? undefined, this.repo);
    const jwt = `${b64url({ typ: 'JWT', alg: 'RS256', kid: 'journey' })}.${b64url(claims)}.${randomBytes(32).toString('base64url')}`;
    this.issued.set(jwt, claims);
    this.secret(jwt);
    return { body: { value: jwt } };
  }

  /** The claims of a token this issuer minted, or undefined (a forged or edited token). */
  claims(token: string): Record<string, string> | undefined {
    return this.issued.get(token);
  }
}
