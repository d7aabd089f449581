/** Checks a template against the CloudFormation resource specification (@aws-cdk/aws-service-spec). */
import * as fs from 'fs';
import * as zlib from 'zlib';

interface TypeRef { type: string; element?: TypeRef; types?: TypeRef[]; reference?: { $ref: string } }
interface PropSpec { type: TypeRef; required?: boolean }
interface Definition { name: string; properties: Record<string, PropSpec> }
interface ResourceSpec { cloudFormationType: string; properties: Record<string, PropSpec>; attributes: Record<string, unknown> }

let db: { resources: Map<string, ResourceSpec>; types: Record<string, Definition> } | undefined;

function spec() {
  if (db) return db;
  const raw = JSON.parse(zlib.gunzipSync(fs.readFileSync(require.resolve('@aws-cdk/aws-service-spec/db.json.gz'))).toString('utf8'));
  const resources = new Map<string, ResourceSpec>();
  for (const r of Object.values(raw.schema.resource.entities) as ResourceSpec[]) resources.set(r.cloudFormationType, r);
  // Entities are stored as a list; type references point at their $id.
  const types: Record<string, Definition> = {};
  for (const t of raw.schema.typeDefinition.entities as (Definition & { $id: string })[]) types[t.$id] = t;
  db = { resources, types };
  return db;
}

export function resourceSpec(type: string): ResourceSpec | undefined {
  return spec().resources.get(type);
}

const isIntrinsic = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 &&
  (Object.keys(v)[0] === 'Ref' || Object.keys(v)[0].startsWith('Fn::'));

/** Values an intrinsic may produce that we can check structurally (both branches of Fn::If). */
function branches(v: unknown): unknown[] {
  if (isIntrinsic(v) && 'Fn::If' in v) {
    const [, a, b] = v['Fn::If'] as unknown[];
    return [...branches(a), ...branches(b)];
  }
  if (isIntrinsic(v)) return [];
  return [v];
}

function checkValue(value: unknown, t: TypeRef, where: string, problems: string[]): void {
  for (const v of branches(value)) {
    if (t.type === 'array' && Array.isArray(v)) v.forEach((el, i) => checkValue(el, t.element!, `${where}[${i}]`, problems));
    else if (t.type === 'ref' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      checkObject(v as Record<string, unknown>, spec().types[t.reference!.$ref].properties, where, problems);
    } else if (t.type === 'union') {
      const objects = t.types!.filter((x) => x.type === 'ref');
      if (objects.length === 1 && typeof v === 'object' && v !== null && !Array.isArray(v)) checkValue(v, objects[0], where, problems);
    } else if (t.type === 'array' && !Array.isArray(v)) problems.push(`${where}: expected a list`);
    else if (t.type === 'ref' && (typeof v !== 'object' || Array.isArray(v))) problems.push(`${where}: expected an object`);
  }
}

function checkObject(obj: Record<string, unknown>, props: Record<string, PropSpec>, where: string, problems: string[]): void {
  for (const [key, value] of Object.entries(obj)) {
    const p = props[key];
    if (!p) {
      problems.push(`${where}.${key}: no such property`);
      continue;
    }
    checkValue(value, p.type, `${where}.${key}`, problems);
  }
  for (const [key, p] of Object.entries(props)) {
    if (p.required && !(key in obj)) problems.push(`${where}.${key}: required property missing`);
  }
}

const PSEUDO = new Set(['AWS::AccountId', 'AWS::NoValue', 'AWS::Region', 'AWS::Partition', 'AWS::StackName', 'AWS::StackId', 'AWS::URLSuffix', 'AWS::NotificationARNs']);

/** Every problem found: unknown types/properties, missing required ones, dangling references. */
export function validateTemplate(t: Record<string, any>): string[] {
  const problems: string[] = [];
  const params = t.Parameters ?? {};
  const resources: Record<string, any> = t.Resources ?? {};
  const conditions = t.Conditions ?? {};
  for (const [id, r] of Object.entries(resources)) {
    const rs = resourceSpec(r.Type);
    if (!rs) {
      problems.push(`${id}: unknown resource type ${r.Type}`);
      continue;
    }
    checkObject(r.Properties ?? {}, rs.properties, id, problems);
    if (r.Condition && !(r.Condition in conditions)) problems.push(`${id}: unknown condition ${r.Condition}`);
    for (const dep of [r.DependsOn ?? []].flat()) if (!(dep in resources)) problems.push(`${id}: DependsOn unknown ${dep}`);
  }
  const refOk = (name: string) => name in params || name in resources || PSEUDO.has(name);
  const getAttOk = (res: string, attr: string, at: string) => {
    const r = resources[res];
    if (!r) {
      problems.push(`${at}: GetAtt of unknown resource ${res}`);
      return;
    }
    const rs = resourceSpec(r.Type);
    if (rs && !(attr in rs.attributes)) problems.push(`${at}: ${r.Type} has no attribute ${attr}`);
  };
  const walk = (v: unknown, at: string, locals: Set<string> = new Set()): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`, locals));
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if ('Ref' in o && typeof o.Ref === 'string' && !refOk(o.Ref)) problems.push(`${at}: Ref to unknown ${o.Ref}`);
    if ('Fn::GetAtt' in o) {
      const [res, attr] = o['Fn::GetAtt'] as string[];
      getAttOk(res, attr, at);
    }
    if ('Condition' in o && typeof o.Condition === 'string' && Object.keys(o).length === 1 && !(o.Condition in conditions)) {
      problems.push(`${at}: unknown condition ${o.Condition}`);
    }
    if ('Fn::If' in o) {
      const name = (o['Fn::If'] as unknown[])[0] as string;
      if (!(name in conditions)) problems.push(`${at}: Fn::If on unknown condition ${name}`);
    }
    if ('Fn::Sub' in o) {
      const sub = o['Fn::Sub'];
      const [text, vars] = typeof sub === 'string' ? [sub, {}] : (sub as [string, Record<string, unknown>]);
      for (const m of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
        const name = m[1];
        if (name in vars) continue;
        if (name.includes('.') && !name.startsWith('AWS::')) getAttOk(name.slice(0, name.indexOf('.')), name.slice(name.indexOf('.') + 1), at);
        else if (!refOk(name)) problems.push(`${at}: Sub of unknown ${name}`);
      }
      if (typeof sub !== 'string') walk(vars, at, locals);
      return;
    }
    for (const [k, x] of Object.entries(o)) walk(x, `${at}.${k}`, locals);
  };
  walk(resources, 'Resources');
  walk(t.Outputs ?? {}, 'Outputs');
  walk(conditions, 'Conditions');
  return problems;
}

/** Every IAM statement in the template (roles' inline policies, managed policies, resource policies). */
export function statements(t: Record<string, any>): { at: string; statement: Record<string, any> }[] {
  const out: { at: string; statement: Record<string, any> }[] = [];
  const walk = (v: unknown, at: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`));
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.Statement)) {
      for (const [i, s] of (o.Statement as unknown[]).entries()) for (const b of branches(s)) out.push({ at: `${at}.Statement[${i}]`, statement: b as Record<string, any> });
    }
    for (const [k, x] of Object.entries(o)) walk(x, `${at}.${k}`);
  };
  walk(t.Resources, 'Resources');
  return out;
}
