/**
 * IAM policy evaluation the way IAM does it for one principal: explicit deny wins, then any allow; a
 * permissions boundary must allow as well. Covers the condition operators the templates use. Templates are
 * rendered by ./resolve.ts first.
 */
import { ACCOUNT, Rendered } from './resolve';

type Json = Record<string, any>;

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface Request {
  action: string;
  resource: string;
  /** Condition keys of the request (aws:CalledVia, aws:RequestTag/..., iam:PermissionsBoundary...). */
  context?: Record<string, string | string[]>;
}

export const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function glob(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, caseInsensitive ? 'is' : 's');
  return re.test(value);
}

/** ${aws:PrincipalTag/x} and the like, from the request context; unresolvable variables never match. */
function substitute(value: string, ctx: Record<string, string | string[]>): string | undefined {
  let missing = false;
  const out = value.replace(/\$\{([^}]+)\}/g, (_m, key: string) => {
    const v = ctx[key];
    if (v === undefined) missing = true;
    return String(v);
  });
  return missing ? undefined : out;
}

function conditionHolds(operator: string, key: string, policyValues: unknown, ctx: Record<string, string | string[]>): boolean {
  const wanted = list(policyValues as string | string[]).map(String);
  const present = key in ctx;
  const given = list(ctx[key]).map(String);
  let op = operator;
  let setOp: 'ForAnyValue' | undefined;
  if (op.startsWith('ForAnyValue:')) {
    setOp = 'ForAnyValue';
    op = op.slice('ForAnyValue:'.length);
  }
  if (op.startsWith('ForAllValues:')) throw new Error('ForAllValues is not used by the templates');
  if (op === 'Null') return wanted[0] === 'true' ? !present : present;
  let ifExists = false;
  if (op.endsWith('IfExists')) {
    ifExists = true;
    op = op.slice(0, -'IfExists'.length);
  }
  if (!present) return ifExists ? true : /Not/.test(op) && !setOp;
  const negated = /Not/.test(op);
  const base = op.replace('Not', '');
  const matchOne = (v: string) =>
    wanted.some((w) => {
      const target = substitute(w, ctx);
      if (target === undefined) return false;
      switch (base) {
        case 'StringEquals': return v === target;
        case 'StringEqualsIgnoreCase': return v.toLowerCase() === target.toLowerCase();
        case 'StringLike':
        case 'ArnLike':
        case 'ArnEquals': return glob(target, v);
        case 'Bool': return v === target;
        default: throw new Error(`operator ${operator} not supported by the evaluator`);
      }
    });
  const holds = (v: string) => (negated ? !matchOne(v) : matchOne(v));
  if (setOp) return given.some(holds);
  // Single-valued keys: a request carries one value.
  return given.length > 0 && given.every(holds);
}

export function statementMatches(s: Statement, req: Request): boolean {
  const ctx = req.context ?? {};
  const actionHit = (patterns: string[]) => patterns.some((p) => glob(p, req.action, true));
  if (s.Action !== undefined && !actionHit(list(s.Action))) return false;
  if (s.NotAction !== undefined && actionHit(list(s.NotAction))) return false;
  const resourceHit = (patterns: string[]) => patterns.some((p) => glob(substitute(p, ctx) ?? '\u0000', req.resource));
  if (s.Resource !== undefined && !resourceHit(list(s.Resource))) return false;
  if (s.NotResource !== undefined && resourceHit(list(s.NotResource))) return false;
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, values] of Object.entries(keys)) if (!conditionHolds(operator, key, values, ctx)) return false;
  }
  return true;
}

export type Decision = { decision: 'allow' | 'deny' | 'implicit-deny'; by?: string };

/** IAM's evaluation for one principal: identity policies, optionally bounded by a permissions boundary. */
export function evaluate(identity: Statement[], req: Request, boundary?: Statement[]): Decision {
  const all = [...identity, ...(boundary ?? [])];
  const deny = all.find((s) => s.Effect === 'Deny' && statementMatches(s, req));
  if (deny) return { decision: 'deny', by: deny.Sid };
  const allow = identity.find((s) => s.Effect === 'Allow' && statementMatches(s, req));
  if (!allow) return { decision: 'implicit-deny' };
  if (boundary && !boundary.some((s) => s.Effect === 'Allow' && statementMatches(s, req))) return { decision: 'implicit-deny', by: 'boundary' };
  return { decision: 'allow', by: allow.Sid };
}

/** Statements of the managed policies a role carries, plus its inline policies. */
export function roleStatements(rendered: Rendered, roleId: string): Statement[] {
  const role = rendered.resources[roleId].Properties;
  const out: Statement[] = [];
  for (const arn of list<string>(role.ManagedPolicyArns)) {
    const policy = Object.values(rendered.resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && `arn:aws:iam::${ACCOUNT}:policy/${r.Properties.ManagedPolicyName ?? ''}` === arn);
    const byId = Object.entries(rendered.resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && arn.endsWith(`:policy/${id}`));
    const doc = (policy ?? byId?.[1])?.Properties.PolicyDocument;
    if (doc) out.push(...doc.Statement);
  }
  for (const p of list<Json>(role.Policies)) out.push(...p.PolicyDocument.Statement);
  // Stand-alone inline policies (AWS::IAM::RolePolicy) name their role (a Ref resolves to the logical id here).
  for (const r of Object.values(rendered.resources)) if (r.Type === 'AWS::IAM::RolePolicy' && [roleId, role.RoleName].includes(r.Properties.RoleName)) out.push(...r.Properties.PolicyDocument.Statement);
  return out;
}
