/**
 * The one error type users see. Everything that can go wrong in a way a user can fix becomes a
 * DeployError with a message that says what is wrong, where, and what to do about it.
 */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export interface DeployErrorOptions {
  /** What the user should do next (a command, a setting, a permission). */
  hint?: string;
  /** Where the problem is: a spec file position or an input name. */
  location?: SourceLocation;
  /** Short title for the annotation. */
  title?: string;
  cause?: unknown;
}

export class DeployError extends Error {
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly title?: string;

  constructor(message: string, options: DeployErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DeployError';
    this.hint = options.hint;
    this.location = options.location;
    this.title = options.title;
  }

  /** The full text shown to the user: where (unless an annotation already says it), what, and what to do. */
  describe(withLocation = true): string {
    const where = withLocation && this.location ? `${formatLocation(this.location)}: ` : '';
    return this.hint ? `${where}${this.message}\n${this.hint}` : `${where}${this.message}`;
  }
}

/** Several problems found in one pass (a spec with three mistakes reports all three). */
export class DeployErrors extends DeployError {
  readonly errors: DeployError[];
  constructor(errors: DeployError[]) {
    super(errors.map((e) => e.describe()).join('\n'), { location: errors[0]?.location, title: errors[0]?.title });
    this.name = 'DeployErrors';
    this.errors = errors;
  }
  override describe(withLocation = true): string {
    const [only, ...more] = this.errors;
    if (only && more.length === 0) return only.describe(withLocation);
    return `${this.errors.length} problems:\n` + this.errors.map((e) => `- ${e.describe().replace(/\n/g, '\n  ')}`).join('\n');
  }
}

/** Throws the problems found: one as itself, several together. */
export function throwIfAny(errors: DeployError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new DeployErrors(errors);
}

export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}

export function errorName(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { name?: unknown; Code?: unknown; code?: unknown };
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.Code === 'string') return e.Code;
    if (typeof e.code === 'string') return e.code;
  }
  return 'Error';
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Turns the AWS errors users meet most into a DeployError with advice. Anything not recognised
 * keeps its own message, prefixed with what we were doing.
 */
export function explainAwsError(err: unknown, doing: string): DeployError {
  if (err instanceof DeployError) return err;
  const name = errorName(err);
  const message = errorMessage(err);
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  const text = `${doing} failed: ${name}: ${message}`;
  if (/AssumeRoleWithWebIdentity/.test(message) || (name === 'AccessDenied' && /WebIdentity/.test(message))) {
    return new DeployError(text, {
      cause: err,
      title: 'OIDC role assumption denied',
      hint:
        "The role's trust policy does not accept this workflow's OIDC token. Check that the job has " +
        '`permissions: id-token: write`, that the trust policy pins token.actions.githubusercontent.com:aud to ' +
        'sts.amazonaws.com and that its `sub` matches this job exactly (a job with `environment:` sends ' +
        'repo:OWNER/REPO:environment:NAME, not a branch ref). templates/bootstrap/ creates a matching role.',
    });
  }
  if (/sts:TagSession/.test(message)) {
    return new DeployError(text, {
      cause: err,
      title: 'Role chaining needs sts:TagSession',
      hint: "Add sts:TagSession next to sts:AssumeRole in the target role's trust policy (session tags pass through role chaining).",
    });
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
    return new DeployError(text, {
      cause: err,
      title: 'No AWS credentials',
      hint:
        'Run aws-actions/configure-aws-credentials with `role-to-assume` before this step, and give the job ' +
        '`permissions: id-token: write`. Locally, set AWS_PROFILE or AWS_ACCESS_KEY_ID.',
    });
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException') {
    return new DeployError(text, {
      cause: err,
      title: 'AWS credentials expired',
      hint: 'Raise `role-duration-seconds` in configure-aws-credentials (the role must allow it), or split the job.',
    });
  }
  if (name === 'ResourceLimitExceeded' || name === 'LimitExceededException' || /service limit|quota/i.test(message)) {
    return new DeployError(text, {
      cause: err,
      title: 'Service quota exceeded',
      hint: 'Request an increase in the Service Quotas console (or `aws service-quotas request-service-quota-increase`) for the quota named above, in this account and region.',
    });
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation' || meta?.httpStatusCode === 403) {
    return new DeployError(text, {
      cause: err,
      title: 'Permission denied',
      hint: 'The role this step runs as lacks the permission named above. templates/bootstrap/ lists what each action needs.',
    });
  }
  return new DeployError(text, { cause: err });
}

/** The AWS error behind one explainAwsError wrapped (a DeployError's cause), else the error itself. */
export function awsCause(err: unknown): unknown {
  return err instanceof DeployError && err.cause !== undefined ? err.cause : err;
}

/** The HTTP status an AWS SDK error carries, if any. */
export function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Whether an AWS error says "there is no such thing": a 404, a `*NotFound*`/`NoSuch*` error name
 * (S3 HeadObject's bare `NotFound`, ECR's RepositoryNotFoundException, ...), or CloudFormation's
 * ValidationError "... does not exist" (its only way of saying a stack or change set is absent).
 * An error wrapped by explainAwsError is looked through to its cause.
 */
export function isNotFound(err: unknown): boolean {
  const cause = awsCause(err);
  const name = errorName(cause);
  if (httpStatus(cause) === 404) return true;
  if (/NotFound|^NoSuch/.test(name)) return true;
  return name === 'ValidationError' && /does not exist/.test(errorMessage(cause));
}
