/**
 * A stateful CloudFormation for the journey: stacks per account and region, created from their real
 * templates (JSON or YAML with the short-form tags), change sets with the changes a diff of the
 * templates gives, executions that leave events carrying the ClientRequestToken, termination
 * protection, deletion. Outputs and resource properties are evaluated from the template (Ref, GetAtt,
 * Sub, Join, If and conditions), so what a later step reads is what the rendered template says.
 */
import { CollectionTag, parse as parseYaml, ScalarTag } from 'yaml';

type Json = unknown;
type Obj = Record<string, Json>;

const SHORT = ['Ref', 'Condition', 'GetAtt', 'Sub', 'Join', 'If', 'Equals', 'Not', 'And', 'Or', 'Select', 'Split', 'FindInMap', 'Base64', 'GetAZs', 'ImportValue', 'Cidr', 'Length', 'ToJsonString'];

function fullName(tag: string): string {
  return tag === 'Ref' || tag === 'Condition' ? tag : `Fn::${tag}`;
}

/** yaml custom tags for CloudFormation's short forms (!Ref x, !GetAtt a.b, !Sub [...], ...). */
const customTags: (ScalarTag | CollectionTag)[] = SHORT.flatMap((name): (ScalarTag | CollectionTag)[] => [
  {
    tag: `!${name}`,
    resolve: (value: string) => ({ [fullName(name)]: name === 'GetAtt' ? value.split('.') : value }),
  },
  {
    tag: `!${name}`,
    collection: 'seq',
    resolve: (seq) => ({ [fullName(name)]: seq.toJSON() }),
  },
  {
    tag: `!${name}`,
    collection: 'map',
    resolve: (map) => ({ [fullName(name)]: map.toJSON() }),
  },
]);

export function parseTemplate(body: string): Obj {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(body) as Obj;
  return parseYaml(body, { customTags, uniqueKeys: false }) as Obj;
}

const NO_VALUE = Symbol('NoValue');

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

export class Evaluation {
  constructor(
    private readonly stack: Stack,
    private readonly template: Obj,
    private readonly params: Record<string, string>,
    private readonly resources: Map<string, StackResource>,
    private readonly hook: AttributeHook,
  ) {}

  condition(name: string): boolean {
    const conditions = (this.template.Conditions ?? {}) as Obj;
    return Boolean(this.value(conditions[name]));
  }

  ref(name: string): Json {
    const pseudo: Record<string, string> = {
      'AWS::Region': this.stack.region,
      'AWS::AccountId': this.stack.account,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::Partition': 'aws',
      'AWS::StackName': this.stack.name,
      'AWS::StackId': this.stack.id,
    };
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (name in this.params) {
      const declared = ((this.template.Parameters ?? {}) as Record<string, { Type?: string }>)[name];
      return declared?.Type?.startsWith('List<') || declared?.Type === 'CommaDelimitedList' ? this.params[name].split(',').filter(Boolean) : this.params[name];
    }
    const r = this.resources.get(name);
    if (!r) throw new Error(`template refers to ${name}, which is neither a parameter nor a resource`);
    if (r.type === 'AWS::SageMaker::Endpoint') return `arn:aws:sagemaker:${this.stack.region}:${this.stack.account}:endpoint/${r.physical.toLowerCase()}`;
    if (r.physical.startsWith('arn:')) return r.physical;
    if (r.type === 'AWS::ECS::Service') return `arn:aws:ecs:${this.stack.region}:${this.stack.account}:service/${String(this.value(r.properties.Cluster ?? 'default'))}/${r.physical}`;
    return r.physical;
  }

  getAtt(logical: string, attr: string): Json {
    const r = this.resources.get(logical);
    if (!r) throw new Error(`GetAtt of unknown resource ${logical}`);
    const hooked = this.hook(this.stack, r, attr);
    if (hooked !== undefined) return hooked;
    if (attr in r.properties) return r.properties[attr];
    if (attr === 'Arn') return `arn:aws:${r.type.split('::')[1].toLowerCase()}:${this.stack.region}:${this.stack.account}:${logical.toLowerCase()}/${r.physical}`;
    if (attr === 'RepositoryUri') return `${this.stack.account}.dkr.ecr.${this.stack.region}.amazonaws.com/${r.physical}`;
    if (/Name$/.test(attr)) return r.physical;
    return `${r.physical}-${attr}`;
  }

  sub(input: Json): string {
    const [text, vars] = Array.isArray(input) ? [String(input[0]), (input[1] ?? {}) as Obj] : [String(input), {}];
    return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
      if (name in vars) return String(this.value(vars[name]));
      if (name.includes('.') && !name.startsWith('AWS::')) {
        const [logical, ...attr] = name.split('.');
        return String(this.getAtt(logical, attr.join('.')));
      }
      return String(this.ref(name));
    });
  }

  value(node: Json): Json {
    if (Array.isArray(node)) return node.map((n) => this.value(n)).filter((n) => n !== NO_VALUE);
    if (!node || typeof node !== 'object') return node;
    const o = node as Obj;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = o[k];
      switch (k) {
        case 'Ref':
          return this.ref(String(arg));
        case 'Condition':
          return this.condition(String(arg));
        case 'Fn::GetAtt': {
          const parts = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
          return this.getAtt(parts[0], parts.slice(1).join('.'));
        }
        case 'Fn::Sub':
          return this.sub(Array.isArray(arg) ? [arg[0], arg[1]] : arg);
        case 'Fn::Join': {
          const [sep, list] = arg as [string, Json];
          return (this.value(list) as Json[]).join(sep);
        }
        case 'Fn::If': {
          const [cond, yes, no] = arg as [string, Json, Json];
          return this.value(this.condition(cond) ? yes : no);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as Json[]).map((x) => this.value(x));
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !this.value((arg as Json[])[0]);
        case 'Fn::And':
          return (arg as Json[]).every((x) => this.value(x));
        case 'Fn::Or':
          return (arg as Json[]).some((x) => this.value(x));
        case 'Fn::Select': {
          const [i, list] = arg as [Json, Json];
          return (this.value(list) as Json[])[Number(this.value(i))];
        }
        case 'Fn::Split': {
          const [sep, s] = arg as [string, Json];
          return String(this.value(s)).split(sep);
        }
        case 'Fn::Base64':
          return Buffer.from(String(this.value(arg))).toString('base64');
        case 'Fn::GetAZs':
          return [`${this.stack.region}a`, `${this.stack.region}b`];
        case 'Fn::Length':
          return (this.value(arg) as Json[]).length;
        case 'Fn::ToJsonString':
          return JSON.stringify(this.value(arg));
        case 'Fn::FindInMap': {
          const [map, a, b] = (arg as Json[]).map((x) => this.value(x)) as string[];
          return ((((this.template.Mappings ?? {}) as Obj)[map] as Obj)[a] as Obj)[b];
        }
        default:
          break;
      }
    }
    const out: Obj = {};
    for (const [k, v] of Object.entries(o)) {
      const x = this.value(v);
      if (x !== NO_VALUE) out[k] = x;
    }
    return out;
  }
}

const NAME_PROPERTIES = ['EndpointName', 'EndpointConfigName', 'ModelName', 'RepositoryName', 'ServiceName', 'ClusterName', 'LogGroupName', 'Name', 'RoleName', 'FunctionName', 'BucketName', 'AlarmName', 'TargetGroupName'];

/** Creates (or updates) the resources of a template, evaluating properties with references between them. */
export function materialize(stack: Stack, templateBody: string, params: Record<string, string>, hook: AttributeHook, previous: StackResource[] = []): { resources: StackResource[]; outputs: Record<string, string> } {
  const template = parseTemplate(templateBody);
  const declared = (template.Parameters ?? {}) as Record<string, { Default?: Json }>;
  const allParams: Record<string, string> = {};
  for (const [k, def] of Object.entries(declared)) if (def.Default !== undefined) allParams[k] = Array.isArray(def.Default) ? def.Default.join(',') : String(def.Default);
  Object.assign(allParams, params);
  const defs = (template.Resources ?? {}) as Record<string, { Type: string; Properties?: Obj; Condition?: string }>;
  const resources = new Map<string, StackResource>();
  const evaluation = new Evaluation(stack, template, allParams, resources, hook);
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
