/**
 * The stacks of the fake AWS (./world.ts): per account and region, created from their real templates
 * (parsed by the product's loader), change sets with the changes a diff of the templates gives,
 * executions that leave events carrying the ClientRequestToken, termination protection, deletion.
 * Outputs and resource properties are evaluated from the template (../cloudformation/intrinsics.ts), so
 * what a later step reads is what the rendered template says.
 */
import { Intrinsics } from '../cloudformation/intrinsics';
import { parseTemplateBody } from '../cloudformation/template';

type Json = unknown;
type Obj = Record<string, Json>;

export interface StackResource {
  logical: string;
  type: string;
  physical: string;
  properties: Obj;
}

export interface StackEvent {
  id: string;
  logical: string;
  physical: string;
  type: string;
  status: string;
  reason?: string;
  token?: string;
  time: Date;
}

export interface ChangeSet {
  id: string;
  name: string;
  type: 'CREATE' | 'UPDATE';
  templateBody: string;
  parameters: Record<string, string>;
  status: string;
  executionStatus: string;
  statusReason?: string;
  changes: { action: string; logical: string; type: string; replacement: string }[];
  request: Record<string, string>;
}

export interface Stack {
  account: string;
  region: string;
  name: string;
  id: string;
  status: string;
  templateBody: string;
  parameters: Record<string, string>;
  outputs: Record<string, string>;
  resources: StackResource[];
  events: StackEvent[];
  changeSets: ChangeSet[];
  protection: boolean;
  created: Date;
}

/** Values the world decides (a load balancer's DNS name), by resource type and attribute. */
export type AttributeHook = (stack: Stack, r: StackResource, attr: string) => string | undefined;

/** Ref and GetAtt of a stack's resources: physical ids, and the ARNs and attributes AWS derives from them. */
function resourceValues(stack: Stack, resources: Map<string, StackResource>, hook: AttributeHook, evaluate: () => Intrinsics) {
  return {
    has: (logical: string) => resources.has(logical),
    ref(logical: string): Json {
      const r = resources.get(logical)!;
      if (r.type === 'AWS::SageMaker::Endpoint') return `arn:aws:sagemaker:${stack.region}:${stack.account}:endpoint/${r.physical.toLowerCase()}`;
      if (r.physical.startsWith('arn:')) return r.physical;
      // An OIDC provider's Ref is its ARN, named by its URL's host (CloudFormation's AWS::IAM::OIDCProvider return values).
      if (r.type === 'AWS::IAM::OIDCProvider') return `arn:aws:iam::${stack.account}:oidc-provider/${String(r.properties.Url ?? 'https://token.actions.githubusercontent.com').replace(/^https:\/\//, '')}`;
      if (r.type === 'AWS::ECS::Service') return `arn:aws:ecs:${stack.region}:${stack.account}:service/${String(evaluate().value(r.properties.Cluster ?? 'default'))}/${r.physical}`;
      return r.physical;
    },
    getAtt(logical: string, attr: string): Json {
      const r = resources.get(logical)!;
      const hooked = hook(stack, r, attr);
      if (hooked !== undefined) return hooked;
      if (attr in r.properties) return r.properties[attr];
      // A role's ARN is IAM's (global: no region), by its path and name.
      if (r.type === 'AWS::IAM::Role' && attr === 'Arn') return `arn:aws:iam::${stack.account}:role${String(r.properties.Path ?? '/')}${r.physical}`;
      if (attr === 'Arn') return `arn:aws:${r.type.split('::')[1].toLowerCase()}:${stack.region}:${stack.account}:${logical.toLowerCase()}/${r.physical}`;
      if (attr === 'RepositoryUri') return `${stack.account}.dkr.ecr.${stack.region}.amazonaws.com/${r.physical}`;
      if (/Name$/.test(attr)) return r.physical;
      return `${r.physical}-${attr}`;
    },
  };
}

const NAME_PROPERTIES = ['EndpointName', 'EndpointConfigName', 'ModelName', 'RepositoryName', 'ServiceName', 'ClusterName', 'LogGroupName', 'Name', 'RoleName', 'FunctionName', 'BucketName', 'AlarmName', 'TargetGroupName'];

/** Creates (or updates) the resources of a template, evaluating properties with references between them. */
export function materialize(stack: Stack, templateBody: string, params: Record<string, string>, hook: AttributeHook, previous: StackResource[] = []): { resources: StackResource[]; outputs: Record<string, string> } {
  const template = parseTemplateBody(templateBody);
  const declared = (template.Parameters ?? {}) as Record<string, { Default?: Json }>;
  const allParams: Record<string, string> = {};
  for (const [k, def] of Object.entries(declared)) if (def.Default !== undefined) allParams[k] = Array.isArray(def.Default) ? def.Default.join(',') : String(def.Default);
  Object.assign(allParams, params);
  const defs = (template.Resources ?? {}) as Record<string, { Type: string; Properties?: Obj; Condition?: string }>;
  const resources = new Map<string, StackResource>();
  const evaluation: Intrinsics = new Intrinsics(template, allParams, stack, resourceValues(stack, resources, hook, () => evaluation));
  const kept = Object.entries(defs).filter(([, def]) => !def.Condition || evaluation.condition(def.Condition));
  // Physical ids first (from a literal name property when there is one), then the properties.
  for (const [logical, def] of kept) {
    const old = previous.find((r) => r.logical === logical && r.type === def.Type);
    const props = def.Properties ?? {};
    const nameProp = NAME_PROPERTIES.find((p) => typeof props[p] === 'string' || (props[p] && typeof props[p] === 'object' && 'Ref' in (props[p] as Obj) && String((props[p] as Obj).Ref) in allParams));
    let physical = old?.physical ?? `${stack.name}-${logical}-${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
    if (nameProp) {
      const raw = props[nameProp];
      physical = typeof raw === 'string' ? raw : allParams[String((raw as Obj).Ref)];
    }
    resources.set(logical, { logical, type: def.Type, physical, properties: {} });
  }
  // Twice: names built with Sub from other resources settle in the second pass.
  for (let pass = 0; pass < 2; pass++) {
    for (const [logical, def] of kept) {
      const r = resources.get(logical)!;
      r.properties = evaluation.value(def.Properties ?? {}) as Obj;
      const nameProp = NAME_PROPERTIES.find((p) => typeof r.properties[p] === 'string');
      if (nameProp) r.physical = String(r.properties[nameProp]);
    }
  }
  const outputs: Record<string, string> = {};
  for (const [key, def] of Object.entries((template.Outputs ?? {}) as Record<string, { Value: Json; Condition?: string }>)) {
    if (def.Condition && !evaluation.condition(def.Condition)) continue;
    const v = evaluation.value(def.Value);
    outputs[key] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return { resources: [...resources.values()], outputs };
}

/** Resource-level differences between two templates' materialized resources (what a change set lists). */
export function diff(before: StackResource[], after: StackResource[]): ChangeSet['changes'] {
  const changes: ChangeSet['changes'] = [];
  for (const r of after) {
    const old = before.find((b) => b.logical === r.logical);
    if (!old) changes.push({ action: 'Add', logical: r.logical, type: r.type, replacement: 'False' });
    else if (JSON.stringify(old.properties) !== JSON.stringify(r.properties)) {
      const replace = r.type === 'AWS::SageMaker::EndpointConfig' || r.type === 'AWS::SageMaker::Model';
      changes.push({ action: 'Modify', logical: r.logical, type: r.type, replacement: replace ? 'True' : 'False' });
    }
  }
  for (const b of before) if (!after.some((r) => r.logical === b.logical)) changes.push({ action: 'Remove', logical: b.logical, type: b.type, replacement: 'False' });
  return changes;
}
