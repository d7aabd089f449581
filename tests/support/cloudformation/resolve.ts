/**
 * A template rendered for given parameters, without a stack behind it: what the IAM tests read (roles,
 * policies, trust). Resources are named the way IAM sees them: a managed policy's Ref is its ARN, the OIDC
 * provider's its ARN, a role's Arn attribute its ARN by RoleName; any other resource is its logical id.
 */
import { Intrinsics, partitionOf, ResourceValues } from './intrinsics';
import type { Template } from './template';

export const ACCOUNT = '111111111111';

export interface Rendered {
  resources: Record<string, { Type: string; Properties: Template }>;
  conditions: Record<string, boolean>;
}

/** Resolves the template's intrinsic functions for `params` (declared defaults, else '', for the rest). */
export function resolveTemplate(template: Template, params: Record<string, string>, region = 'us-east-1'): Rendered {
  const partition = partitionOf(region);
  const values: Record<string, string> = {};
  for (const [name, p] of Object.entries((template.Parameters ?? {}) as Template)) {
    values[name] = params[name] ?? (Array.isArray(p.Default) ? p.Default.join(',') : String(p.Default ?? ''));
  }
  const declared = (template.Resources ?? {}) as Template;
  const stack = { account: ACCOUNT, region, name: 'stack', id: `arn:${partition}:cloudformation:${region}:${ACCOUNT}:stack/stack/1` };
  const named: ResourceValues = {
    has: (logical) => logical in declared,
    ref: (logical) => {
      const r = declared[logical];
      if (r.Type === 'AWS::IAM::ManagedPolicy') return `arn:${partition}:iam::${ACCOUNT}:policy/${r.Properties?.ManagedPolicyName ?? logical}`;
      if (r.Type === 'AWS::IAM::OIDCProvider') return `arn:${partition}:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
      return logical;
    },
    getAtt: (logical, attr) => {
      const r = declared[logical];
      if (r.Type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:${partition}:iam::${ACCOUNT}:role/${intrinsics.value(r.Properties?.RoleName) ?? logical}`;
      return `${logical}.${attr}`;
    },
  };
  const intrinsics = new Intrinsics(template, values, stack, named);
  const resources: Rendered['resources'] = {};
  for (const [id, r] of Object.entries(declared)) {
    if (r.Condition && !intrinsics.condition(r.Condition)) continue;
    resources[id] = { Type: r.Type, Properties: intrinsics.value(r.Properties ?? {}) as Template };
  }
  return { resources, conditions: intrinsics.evaluatedConditions() };
}
