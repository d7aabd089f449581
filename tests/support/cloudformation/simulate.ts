/**
 * IAM decisions by @cloud-copilot/iam-simulate, which evaluates policies the way AWS documents it (every
 * condition operator, set operators, IfExists, missing keys, policy variables, boundaries), over roles of a
 * rendered template (./resolve.ts). The request context holds only what AWS itself sends: the principal's
 * keys (account, ARN, tags) always, and what a test adds for the call it models (aws:CalledVia when
 * CloudFormation makes it, a resource's tags only when the service evaluates them for that action).
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { createValidatedPolicy, validateTrustPolicy } from '@cloud-copilot/iam-policy';
import { ACCOUNT, Rendered } from './resolve';
import { Statement, list } from './iam';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Principal {
  /** The role's ARN, as aws:PrincipalArn carries it. */
  arn: string;
  /** Its identity policies (managed and inline). */
  policies: Statement[];
  /** The role's tags: AWS sends them as aws:PrincipalTag/KEY on every request. */
  tags?: Record<string, string>;
  boundary?: Statement[];
}

export interface Call {
  action: string;
  resource: string;
  /** Keys of this call beside the principal's (aws:CalledVia, s3:prefix, iam:PassedToService, ...). */
  context?: Record<string, string | string[]>;
  /** The resource's account when it is not the principal's (cross-account buckets, images). */
  resourceAccount?: string;
  /** The resource's own policy (a bucket policy), evaluated beside the identity policies. */
  resourcePolicy?: { Version?: string; Statement: unknown[] };
}

/** A role of a rendered template, with its managed and inline policies and its tags. */
export function principalOf(rendered: Rendered, roleId: string): Principal {
  const role = rendered.resources[roleId];
  if (!role || role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is no role of the rendered template`);
  const p = role.Properties;
  const policies: Statement[] = [];
  for (const arn of list<string>(p.ManagedPolicyArns)) {
    const doc = Object.values(rendered.resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && arn.endsWith(`:policy/${r.Properties.ManagedPolicyName ?? ''}`))?.Properties.PolicyDocument
      ?? Object.entries(rendered.resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && arn.endsWith(`:policy/${id}`))?.[1].Properties.PolicyDocument;
    // AWS managed policies (arn:aws:iam::aws:policy/...) are not in the template: a test that needs one adds it.
    if (doc) policies.push(...doc.Statement);
  }
  for (const inline of list<any>(p.Policies)) policies.push(...inline.PolicyDocument.Statement);
  const tags = Object.fromEntries(list<any>(p.Tags).map((t) => [t.Key, String(t.Value)]));
  const boundaryArn = p.PermissionsBoundary as string | undefined;
  const boundary = boundaryArn
    ? Object.values(rendered.resources).find((r) => r.Type === 'AWS::IAM::ManagedPolicy' && boundaryArn.endsWith(`:policy/${r.Properties.ManagedPolicyName}`))?.Properties.PolicyDocument.Statement
    : undefined;
  return { arn: `arn:aws:iam::${ACCOUNT}:role/${p.RoleName ?? roleId}`, policies, tags, boundary };
}

/** The decision AWS makes for `principal` making `call`; a simulation that cannot run (bad policy, unknown key) throws. */
export async function decide(principal: Principal, call: Call): Promise<Decision> {
  const contextVariables: Record<string, string | string[]> = {
    'aws:PrincipalAccount': ACCOUNT,
    'aws:PrincipalArn': principal.arn,
    'aws:PrincipalType': 'AssumedRole',
    // AWS sets it from the resource for every request to a service that knows the resource's account.
    'aws:ResourceAccount': call.resourceAccount ?? ACCOUNT,
    ...Object.fromEntries(Object.entries(principal.tags ?? {}).map(([k, v]) => [`aws:PrincipalTag/${k}`, v])),
    ...call.context,
  };
  const result = await runSimulation(
    {
      identityPolicies: [{ name: 'identity', policy: { Version: '2012-10-17', Statement: principal.policies as any } }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(call.resourcePolicy ? { resourcePolicy: call.resourcePolicy } : {}),
      permissionBoundaryPolicies: principal.boundary ? [{ name: 'boundary', policy: { Version: '2012-10-17', Statement: principal.boundary as any } }] : undefined,
      request: {
        action: call.action,
        principal: principal.arn,
        resource: { accountId: call.resourceAccount ?? ACCOUNT, resource: call.resource },
        contextVariables,
      },
    } as any,
    {},
  );
  if (result.resultType !== 'single') throw new Error(`simulation of ${call.action} on ${call.resource} did not run: ${JSON.stringify(result).slice(0, 600)}`);
  return (result as any).result.analysis.result as Decision;
}

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/**
 * The claims of GitHub's token that STS puts in the request context as token.actions.githubusercontent.com:CLAIM:
 * aud and sub (IAM user guide, "Available keys for AWS OIDC federation") and the custom claims AWS's service
 * authorization reference lists for sts:AssumeRoleWithWebIdentity (the same list iam-data carries).
 */
export const GITHUB_OIDC_KEYS = ['aud', 'sub', 'actor', 'actor_id', 'enterprise_id', 'environment', 'job_workflow_ref', 'ref', 'repository', 'repository_id', 'repository_owner_id', 'workflow'];

/**
 * The decision STS makes on AssumeRoleWithWebIdentity: the role's trust policy (its resource policy) evaluated
 * for the OIDC provider `provider` as principal, with the token's claims as context keys. runSimulation validates
 * context keys against AWS's service authorization reference, which lists the custom claims but not aud and sub:
 * it would drop those two and deny. So this runs the same engine without that filter, after checking the policy
 * and that every key of the provider it names is one STS sets (a claim the token lacks is a missing key, as in AWS).
 */
export function decideWebIdentity(trust: { Version?: string; Statement: unknown[] }, call: { role: string; provider: string; claims: Record<string, string> }): Decision {
  const validated = createValidatedPolicy(trust, validateTrustPolicy, { name: 'trust' });
  if (validated.errors.length > 0) throw new Error(`trust policy of ${call.role} is invalid: ${JSON.stringify(validated.errors)}`);
  const named = [...JSON.stringify(trust).matchAll(new RegExp(`"${GITHUB_OIDC_HOST.replace(/\./g, '\\.')}:(\\w+)"`, 'g'))].map((m) => m[1]);
  const unknown = named.filter((key) => !GITHUB_OIDC_KEYS.includes(key));
  if (unknown.length > 0) throw new Error(`trust policy of ${call.role} names ${unknown.map((k) => `${GITHUB_OIDC_HOST}:${k}`).join(', ')}, which STS does not set`);
  const account = /^arn:[\w-]+:iam::(\d{12}):/.exec(call.role)?.[1] ?? '';
  const contextVariables: Record<string, string> = { 'aws:FederatedProvider': call.provider };
  for (const key of GITHUB_OIDC_KEYS) if (key in call.claims) contextVariables[`${GITHUB_OIDC_HOST}:${key}`] = call.claims[key];
  return runUnsafeSimulation(
    {
      identityPolicies: [], serviceControlPolicies: [], resourceControlPolicies: [],
      resourcePolicy: validated,
      request: { action: 'sts:AssumeRoleWithWebIdentity', principal: call.provider, resource: { accountId: account, resource: call.role }, contextVariables },
    },
    {},
  );
}
