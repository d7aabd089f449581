/**
 * CloudFormation's intrinsic functions over a parsed template: Ref (parameters, pseudo parameters,
 * resources), Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If and conditions, Fn::Select, Fn::Split, Fn::FindInMap,
 * Fn::Base64, Fn::GetAZs, Fn::Length, Fn::ToJsonString; AWS::NoValue drops the value. What a resource's Ref
 * or GetAtt gives is the caller's: the IAM tests name resources by ARN (./resolve.ts), the fake AWS by the
 * physical ids of its stacks (tests/support/fake-aws/cloudformation.ts).
 */
type Json = unknown;
type Obj = Record<string, Json>;

export const NO_VALUE = Symbol('AWS::NoValue');

export interface StackIdentity {
  account: string;
  region: string;
  name: string;
  id: string;
}

/** What Ref and GetAtt of a resource evaluate to. */
export interface ResourceValues {
  has(logical: string): boolean;
  ref(logical: string): Json;
  getAtt(logical: string, attr: string): Json;
}

export const partitionOf = (region: string): string => (region.startsWith('cn-') ? 'aws-cn' : 'aws');

export class Intrinsics {
  constructor(
    readonly template: Obj,
    /** Every parameter's value as CloudFormation passes it (lists comma-separated). */
    private readonly params: Record<string, string>,
    private readonly stack: StackIdentity,
    private readonly resources: ResourceValues,
  ) {}

  private readonly conditions = new Map<string, boolean>();

  condition(name: string): boolean {
    let held = this.conditions.get(name);
    if (held === undefined) {
      held = Boolean(this.value(((this.template.Conditions ?? {}) as Obj)[name]));
      this.conditions.set(name, held);
    }
    return held;
  }

  /** The conditions evaluated so far, by name. */
  evaluatedConditions(): Record<string, boolean> {
    return Object.fromEntries(this.conditions);
  }

  ref(name: string): Json {
    const partition = partitionOf(this.stack.region);
    const pseudo: Record<string, string> = {
      'AWS::Region': this.stack.region,
      'AWS::AccountId': this.stack.account,
      'AWS::URLSuffix': partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
      'AWS::Partition': partition,
      'AWS::StackName': this.stack.name,
      'AWS::StackId': this.stack.id,
    };
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in pseudo) return pseudo[name];
    if (name in this.params) {
      const declared = ((this.template.Parameters ?? {}) as Record<string, { Type?: string }>)[name];
      const isList = declared?.Type?.startsWith('List<') || declared?.Type === 'CommaDelimitedList';
      return isList ? this.params[name].split(',').filter(Boolean) : this.params[name];
    }
    if (!this.resources.has(name)) throw new Error(`template refers to ${name}, which is neither a parameter nor a resource`);
    return this.resources.ref(name);
  }

  getAtt(logical: string, attr: string): Json {
    if (!this.resources.has(logical)) throw new Error(`GetAtt of unknown resource ${logical}`);
    return this.resources.getAtt(logical, attr);
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
      const list = (v: Json): Json[] => ([] as Json[]).concat(this.value(v));
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
          const [sep, items] = arg as [string, Json];
          return list(items).join(sep);
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
          const [i, items] = arg as [Json, Json];
          return list(items)[Number(this.value(i))];
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
          return list(arg).length;
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
