/**
 * Loads model-deploy.yml: parse with positions, validate against the JSON Schema (the one editors
 * use), merge defaults into each deployment, apply the schema's defaults, then check what a schema
 * cannot say. Every problem names file:line, the field, and what would be valid.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ErrorObject } from 'ajv';
import { DeployError, DeployErrors, SourceLocation, throwIfAny } from '../core/errors';
import { resolveWorkload } from '../benchmark/workload';
import type { Deployment, DeploymentSpec, EnvironmentSpec, Spec } from './types';
import { didYouMean } from './suggest';
import { knownInstanceTypes, neuronCores, previousGeneration } from './instance-types';
import { arnPartition, chinaSplit, environmentProblems, partitionOfAll } from './partitions';
import type * as YamlLibrary from 'yaml';
import { loadCoreYaml } from './yaml-core';
import { imageForRegion, imageRegionHint } from '../image/engines';
// Ajv standalone code generated from schema/model-deploy.schema.json (scripts/schema-validators.js):
// compiling the schema at run time took about a second of every start.
import * as compiled from './schema-validators.generated';

export const DEFAULT_SPEC_FILE = 'model-deploy.yml';

type Json = unknown;
type PathPart = string | number;

interface ParsedYaml {
  data: Json;
  locate(p: PathPart[], key?: boolean): SourceLocation;
}

const MAX_ALIAS_COUNT = 100;

/** The yaml library, loaded when positions are first needed (parseYaml): ~5 ms of every start otherwise. */
function yamlLibrary(): typeof YamlLibrary {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof YamlLibrary;
}

function yamlError(message: string, file: string, pos: { line: number; col: number } | undefined, hint: string): DeployError {
  return new DeployError(message, { location: { file, line: pos?.line, column: pos?.col }, title: 'Invalid YAML', hint });
}

/** The same key twice in one mapping: both lines, found in the parsed document. */
function duplicateKeys(doc: YamlLibrary.Document.Parsed, file: string, lineCounter: YamlLibrary.LineCounter): DeployError[] {
  const YAML = yamlLibrary();
  const out: DeployError[] = [];
  YAML.visit(doc, {
    Pair(_key, pair, path) {
      if (!YAML.isScalar(pair.key) || !pair.key.range) return;
      const parent = path[path.length - 1];
      if (!YAML.isMap(parent)) return;
      const first = parent.items.find((it) => YAML.isScalar(it.key) && it.key.value === (pair.key as YamlLibrary.Scalar).value);
      if (!first || first === pair || !YAML.isScalar(first.key) || !first.key.range) return;
      const where = path.filter(YAML.isPair).map((p) => String(YAML.isScalar(p.key) ? p.key.value : '?')).join('.');
      const was = lineCounter.linePos(first.key.range[0]);
      const now = lineCounter.linePos(pair.key.range[0]);
      out.push(
        yamlError(`duplicate key "${String(pair.key.value)}"${where ? ` in ${where}` : ''}: line ${was.line} and line ${now.line}`, file, now, `A key can appear once per mapping: keep line ${was.line} or line ${now.line}. If the second belongs to another mapping, fix its indentation (spaces, not tabs).`),
      );
    },
  });
  return out;
}

/** The first alias (*name) of the document, where an alias bomb starts expanding. */
function firstAlias(doc: YamlLibrary.Document.Parsed, lineCounter: YamlLibrary.LineCounter): { line: number; col: number } | undefined {
  const YAML = yamlLibrary();
  let at: { line: number; col: number } | undefined;
  YAML.visit(doc, {
    Alias(_key, node) {
      if (node.range) at = lineCounter.linePos(node.range[0]);
      return YAML.visit.BREAK;
    },
  });
  return at;
}

function toData(doc: YamlLibrary.Document.Parsed, file: string, lineCounter: YamlLibrary.LineCounter): Json {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Json;
  } catch (err) {
    // yaml's own text ("Excessive alias count ...") names neither the file nor the line.
    if (!/alias count/i.test((err as Error).message)) throw err;
    throw yamlError(
      `invalid YAML: its aliases (*name) expand to too much data (an alias used more than ${MAX_ALIAS_COUNT} times over); stopped before reading it`,
      file,
      firstAlias(doc, lineCounter),
      'Nested anchors and aliases multiply; a spec never needs this. Write the values out, or share them with defaults:.',
    );
  }
}

/** The spec read by the `yaml` library: every node's position, and the errors said where they are. */
function parseWithPositions(text: string, file: string): { data: Json; locate: ParsedYaml['locate'] } {
  const YAML = yamlLibrary();
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const duplicates = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(doc, file, lineCounter) : [];
  const problems = [
    ...duplicates,
    ...doc.errors
      .filter((e) => e.code !== 'DUPLICATE_KEY' || duplicates.length === 0)
      .map((e) =>
        yamlError(`invalid YAML: ${e.message.split('\n')[0]}`, file, e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]), 'Fix the YAML syntax (indentation, quotes, a tab instead of spaces) at this position.'),
      ),
  ];
  throwIfAny(problems);
  return { data: toData(doc, file, lineCounter), locate: locator(doc, file, lineCounter) };
}

function parseYaml(text: string, file: string): ParsedYaml {
  // Positions only when something is pointed at: the fast reader gives the data (src/config/yaml-core.ts).
  const fast = loadCoreYaml(text);
  let slow: ReturnType<typeof parseWithPositions> | undefined = fast === undefined ? parseWithPositions(text, file) : undefined;
  const data = slow ? slow.data : fast;
  if (data === null || data === undefined) {
    throw new DeployError('the spec file is empty (or only comments)', {
      location: { file },
      title: 'Empty deployment spec',
      hint: 'Start from examples/model-deploy.yml (a deployments: mapping, one entry per model), or see schema/model-deploy.schema.json for every field.',
    });
  }
  return {
    data,
    locate: (p, key) => {
      slow ??= parseWithPositions(text, file);
      return slow.locate(p, key);
    },
  };
}

function locator(doc: YamlLibrary.Document.Parsed, file: string, lineCounter: YamlLibrary.LineCounter): ParsedYaml['locate'] {
  const YAML = yamlLibrary();
  return (p, key = false) => {
    // Walk as deep as the document goes; report the deepest node that exists.
    for (let depth = p.length; depth >= 0; depth--) {
      const sub = p.slice(0, depth);
      let node: unknown;
      if (key && depth === p.length && depth > 0) {
        const parent = sub.length > 1 ? doc.getIn(sub.slice(0, -1), true) : doc.contents;
        if (YAML.isMap(parent)) {
          const pair = parent.items.find((it) => YAML.isScalar(it.key) && it.key.value === sub[sub.length - 1]);
          node = pair?.key;
        }
      }
      if (!node) node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const pos = lineCounter.linePos(range[0]);
        return { file, line: pos.line, column: pos.col };
      }
    }
    return { file };
  };
}

// ---- schema validation ------------------------------------------------------------------------

function validators(): typeof compiled {
  return compiled;
}

function pathOf(instancePath: string): PathPart[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The schema object holding the failed keyword (Ajv's verbose mode), whatever $ref led there. */
function schemaOf(e: ErrorObject): Record<string, unknown> | undefined {
  return e.parentSchema as Record<string, unknown> | undefined;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `"${v}"` : `${typeof v} ${String(v)}`;
}

function fieldName(p: PathPart[]): string {
  return p.length === 0 ? 'the document' : p.map((x) => (typeof x === 'number' ? `[${x}]` : x)).join('.').replace(/\.\[/g, '[');
}

function valueAt(data: unknown, p: PathPart[]): unknown {
  let v = data;
  for (const part of p) v = (v as Record<string | number, unknown> | undefined)?.[part];
  return v;
}

interface Described {
  message: string;
  hint?: string;
  location: SourceLocation;
}

/** One Ajv error in the user's words: what is wrong with which field, and what would be valid. */
function describeSchemaError(e: ErrorObject, p: PathPart[], yaml: ParsedYaml): Described | undefined {
  const field = fieldName(p);
  const value = valueAt(yaml.data, p);
  const location = yaml.locate(p);
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const desc = (schemaOf(e)?.properties as Record<string, { description?: string }> | undefined)?.[missing]?.description;
      return { message: `${field} is missing the required field "${missing}"`, hint: desc ? `${missing}: ${desc}` : undefined, location };
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((schemaOf(e)?.properties as object | undefined) ?? {});
      return {
        message: `${field} has an unknown field "${extra}"`,
        hint: `${didYouMean(extra, allowed, 1)} Valid fields: ${allowed.join(', ')}.`.trim(),
        location: yaml.locate([...p, extra], true),
      };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const hint = `${typeof value === 'string' ? didYouMean(value, allowed) + ' ' : ''}Valid values: ${allowed.join(', ')}.`;
      return { message: `${field} is ${describeValue(value)}, which is not valid`, hint, location };
    }
    case 'const':
      return { message: `${field} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, not ${describeValue(value)}`, location };
    case 'type': {
      const t = (e.params as { type: string }).type;
      const wanted = t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : `${/^[aeiou]/.test(t) ? 'an' : 'a'} ${t}`;
      return { message: `${field} must be ${wanted}, not ${describeValue(value)}`, location };
    }
    case 'pattern': {
      if (e.propertyName !== undefined) {
        return {
          message: `${field} has an invalid name "${e.propertyName}"`,
          hint: 'Names are lower-case letters, digits and dashes, starting with a letter.',
          location: yaml.locate([...p, e.propertyName], true),
        };
      }
      const desc = (schemaOf(e) as { description?: string } | undefined)?.description;
      return { message: `${field} is ${describeValue(value)}, which is not valid`, hint: desc ?? `It must match ${(e.params as { pattern: string }).pattern}.`, location };
    }
    case 'propertyNames':
      return undefined;
    case 'oneOf':
      return { message: `${field} is not valid`, hint: (schemaOf(e) as { description?: string } | undefined)?.description, location };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minItems':
    case 'maxItems':
    case 'minProperties':
    case 'uniqueItems':
      return { message: `${field} is ${describeValue(value)}: it ${e.message}`, location };
    default:
      return { message: `${field} ${e.message ?? 'is not valid'}`, location };
  }
}

function schemaErrors(errors: ErrorObject[], yaml: ParsedYaml, base: PathPart[] = []): DeployError[] {
  // A oneOf reports each branch's failures too: keep only the oneOf itself.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.schemaPath);
  const relevant = errors.filter(
    (e) => !oneOfPaths.some((p) => e.schemaPath !== p && e.schemaPath.startsWith(p.slice(0, -'oneOf'.length) + 'oneOf/')) &&
      e.keyword !== 'if' && !(e.keyword === 'propertyNames' && errors.some((o) => o.keyword === 'pattern' && o.propertyName)),
  );
  const out: DeployError[] = [];
  const seen = new Set<string>();
  for (const e of relevant) {
    const described = describeSchemaError(e, [...base, ...pathOf(e.instancePath)], yaml);
    if (!described) continue;
    const { message, hint, location } = described;
    const key = `${location.line}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(new DeployError(message, { location, hint, title: 'Invalid deployment spec' }));
  }
  return out;
}

// ---- merge and resolve ------------------------------------------------------------------------

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; lists and scalars from the deployment replace the defaults. */
export function mergeDefaults(defaults: unknown, own: unknown): unknown {
  if (own === undefined) return structuredClone(defaults);
  if (isPlainObject(defaults) && isPlainObject(own)) {
    const out: Record<string, unknown> = structuredClone(defaults);
    for (const [k, v] of Object.entries(own)) out[k] = mergeDefaults(defaults[k], v);
    return out;
  }
  return structuredClone(own);
}

const SAGEMAKER = new Set(['sagemaker-realtime', 'sagemaker-async']);

/** What each semantic check gets: the deployment, where its fields are written, and where to report. */
interface CheckContext {
  d: Deployment;
  yaml: ParsedYaml;
  specDir: string;
  at(...p: PathPart[]): SourceLocation;
  add(message: string, location: SourceLocation, hint?: string): void;
}

function checkInstanceType({ d, at, add }: CheckContext): void {
  const known = knownInstanceTypes(d.target);
  const type = d.instanceType;
  if (known.includes(type)) return;
  const old = previousGeneration(type, d.target);
  if (old) {
    add(`instanceType "${type}" is a previous-generation type (${old.family}), which model-deploy does not deploy to`, at('instanceType'), `Use the current generation: "${old.current}".`);
    return;
  }
  const sm = SAGEMAKER.has(d.target);
  const wrongPrefix = sm ? !type.startsWith('ml.') : type.startsWith('ml.');
  add(
    `instanceType "${type}" is not a known ${sm ? 'SageMaker' : 'EC2'} instance type for target ${d.target}`,
    at('instanceType'),
    wrongPrefix
      ? sm
        ? `SageMaker instance types start with "ml.": try "ml.${type}".`
        : `EC2 and ECS use EC2 instance types without "ml.": try "${type.replace(/^ml\./, '')}".`
      : `${didYouMean(type, known)} (Closest known types.)`,
  );
}

function checkEngine({ d, specDir, at, add }: CheckContext): void {
  if (!d.model.image && !d.engine) {
    add('engine is required unless model.image names a prebuilt image', at('model'), 'Add engine: { name: vllm } (or tgi, lmi, custom).');
  }
  if (d.model.image && d.model.bakeIntoImage) {
    add('model.bakeIntoImage needs a build, but model.image names a prebuilt image', at('model', 'bakeIntoImage'), 'Remove bakeIntoImage: the container loads the model files from model.s3 at start.');
  }
  if (d.engine?.name === 'custom') {
    if (!d.engine.dockerfile) {
      add('engine custom needs engine.dockerfile', at('engine'), 'Set engine.dockerfile to the path of your Dockerfile, relative to the spec file.');
    } else if (!fs.existsSync(path.resolve(specDir, d.engine.dockerfile))) {
      add(`engine.dockerfile "${d.engine.dockerfile}" does not exist`, at('engine', 'dockerfile'), `Looked for ${path.resolve(specDir, d.engine.dockerfile)}; paths are relative to the spec file.`);
    }
  } else if (d.engine?.dockerfile) {
    add(`engine.dockerfile is only used with engine name custom (this is ${d.engine.name})`, at('engine', 'dockerfile'), 'Remove it, or set engine.name: custom.');
  }
}

function checkScaling({ d, at, add }: CheckContext): void {
  if (d.autoscaling) {
    if (d.autoscaling.min > d.autoscaling.max) add(`autoscaling.min (${d.autoscaling.min}) is above autoscaling.max (${d.autoscaling.max})`, at('autoscaling'), 'Make min ≤ max.');
    if (d.autoscaling.min === 0 && d.target !== 'sagemaker-async') {
      add('autoscaling.min is 0, but only sagemaker-async endpoints can scale to zero', at('autoscaling', 'min'), 'Use min: 1, or target: sagemaker-async.');
    }
    if (d.instanceCount < d.autoscaling.min || d.instanceCount > d.autoscaling.max) {
      add(`instanceCount ${d.instanceCount} is outside autoscaling bounds ${d.autoscaling.min}-${d.autoscaling.max}`, at('instanceCount'), 'Set instanceCount within [min, max]; it is the initial count.');
    }
  }
  if (d.rollout.strategy === 'canary' && d.autoscaling === undefined && d.instanceCount < 2) {
    add('a canary rollout needs at least 2 instances (the canary is at most half of them)', at('rollout', 'strategy'), 'Raise instanceCount, or use strategy all-at-once.');
  }
}

/** ec2 and ecs serve HTTPS from a load balancer in the user's VPC. */
function checkServerTarget({ d, at, add }: CheckContext): void {
  if (SAGEMAKER.has(d.target)) return;
  if (!d.security.certificateArn) {
    add(`target ${d.target} serves HTTPS and needs security.certificateArn`, at('target'), 'Give the ARN of an ACM certificate in the deployment region (arn:aws:acm:REGION:ACCOUNT:certificate/ID).');
  }
  const vpc = d.security.vpc;
  if (!vpc?.vpcId) {
    add(`target ${d.target} needs security.vpc with vpcId, subnets and securityGroups`, at('security'), 'The load balancer and the instances are placed in your VPC: give its id, the subnets for the instances and at least one security group.');
  } else if ((vpc.publicSubnets ?? vpc.subnets).length < 2) {
    add(`the load balancer needs two subnets in different availability zones (${vpc.publicSubnets ? 'security.vpc.publicSubnets' : 'security.vpc.subnets'} has one)`, at('security', 'vpc'), 'Add a second subnet in another availability zone.');
  }
  if (d.security.networkIsolation) add('security.networkIsolation applies to SageMaker targets only', at('security', 'networkIsolation'));
  if (d.security.dataCapture) add('security.dataCapture applies to SageMaker targets only', at('security', 'dataCapture'));
}

/** endpointName and executionRoleArn: SageMaker only; the role in the regions' partition. */
function checkSageMakerFields({ d, at, add }: CheckContext): void {
  for (const field of ['endpointName', 'executionRoleArn'] as const) {
    if (d[field] !== undefined && !SAGEMAKER.has(d.target)) add(`${field} applies to SageMaker targets only`, at(field));
  }
  const role = arnPartition(d.executionRoleArn);
  const partition = partitionOfAll(d.regions);
  if (role && partition && role !== partition) {
    add(
      `executionRoleArn is an ARN of partition ${role}, but the deployment deploys to ${d.regions.join(', ')} (partition ${partition})`,
      at('executionRoleArn'),
      `A role in ${partition} starts with arn:${partition}:iam::.`,
    );
  }
}

/** A prebuilt image a SageMaker endpoint can pull in each region (ECR in that region, or a DLC tag). */
function checkImageRegion({ d, at, add }: CheckContext): void {
  const image = d.model.image;
  if (!image || !SAGEMAKER.has(d.target)) return;
  const elsewhere = d.regions.filter((region) => imageForRegion(image, region) === undefined);
  if (elsewhere.length === 0) return;
  const first = elsewhere[0] ?? '';
  add(`model.image ${image} is not in ${elsewhere.join(', ')}, where the endpoint runs`, at('model', 'image'), imageRegionHint(image, first));
}

/** bedrockThroughput is bought in a target environment: one that exists, or (by default) one with a promotionRoleArn. */
function bedrockThroughputChecks(environments: Record<string, EnvironmentSpec>, deployments: Deployment[], yaml: ParsedYaml): DeployError[] {
  const names = Object.keys(environments);
  return deployments.flatMap((d) => {
    const t = d.bedrockThroughput;
    if (!t || bedrockThroughputTargets(d, environments).length > 0) return [];
    const field = ['deployments', d.name, 'bedrockThroughput'];
    const written = (p: PathPart[]) => (valueAt(yaml.data, [...field, ...p]) !== undefined ? [...field, ...p] : ['defaults', 'bedrockThroughput', ...p]);
    const [message, location, hint] =
      t.environment !== undefined
        ? [`bedrockThroughput.environment is "${t.environment}", which is not an environment of the spec`, written(['environment']), names.length ? `${didYouMean(t.environment, names)} Environments: ${names.join(', ')}.`.trim() : 'Add the target environment under environments:.']
        : ['bedrockThroughput has no target environment: no environment has a promotionRoleArn', written([]), 'Name the environment promote-model copies the Bedrock model to (bedrockThroughput.environment: prod), or give it a promotionRoleArn.'];
    return [new DeployError(`deployments.${d.name}: ${message}`, { location: yaml.locate(location), hint, title: 'Invalid deployment spec' })];
  });
}

/** Two deployments with one endpoint name would replace each other's endpoint. */
function endpointNameChecks(deployments: Deployment[], yaml: ParsedYaml): DeployError[] {
  const owner = new Map<string, string>();
  const errors: DeployError[] = [];
  for (const d of deployments) {
    if (!d.endpointName) continue;
    const first = owner.get(d.endpointName);
    if (first === undefined) {
      owner.set(d.endpointName, d.name);
      continue;
    }
    errors.push(
      new DeployError(`deployments.${d.name}: endpointName "${d.endpointName}" is also the endpoint name of deployment ${first}`, {
        location: yaml.locate(['deployments', d.name, 'endpointName']),
        hint: 'Give each deployment its own endpointName, or leave it out for a generated one.',
        title: 'Invalid deployment spec',
      }),
    );
  }
  return errors;
}

function checkAsync({ d, yaml, at, add }: CheckContext): void {
  if (d.target !== 'sagemaker-async' && valueAt(yaml.data, ['deployments', d.name, 'async']) !== undefined) {
    add('async settings are only used by target sagemaker-async', at('async'));
  }
}

function checkRegions({ d, at, add }: CheckContext): void {
  const { china, other } = chinaSplit(d.regions);
  if (china.length > 0 && other.length > 0) {
    add('mixes China regions with other regions', at('regions'), 'China regions live in a separate partition with separate accounts: put them in a deployment of their own.');
  }
}

/** Regions an environment gives its deployments, and its roles, against the partitions they use. */
function environmentChecks(environments: Record<string, EnvironmentSpec>, deployments: Deployment[], yaml: ParsedYaml): DeployError[] {
  return Object.entries(environments).flatMap(([name, env]) =>
    environmentProblems(name, env, deployments).map((p) => new DeployError(p.message, { location: yaml.locate(p.path), hint: p.hint, title: 'Invalid deployment spec' })),
  );
}

/** The benchmark workload: the rules a schema cannot say (concurrency or rate, steps), defaults applied. */
function checkWorkload({ d, at, add }: CheckContext): void {
  try {
    // No location here: each error is pointed at its field below (positions cost a second parse).
    d.workload = resolveWorkload(d.workload, { path: 'workload' });
  } catch (err) {
    for (const e of err instanceof DeployErrors ? err.errors : [err]) {
      if (!(e instanceof DeployError)) throw e;
      // "workload.objective.p95TtftMs is ...": point at that field where it is written.
      const field = /^workload\.([\w.]+)/.exec(e.message)?.[1]?.split('.') ?? [];
      add(e.message, at('workload', ...field), e.hint);
    }
  }
}

/** Engines with a verified Neuron build (src/image/engines.ts); SageMaker hosts the Neuron devices. */
const NEURON_ENGINES = new Set(['lmi', 'tgi', 'custom']);

/** Inferentia/Trainium: SageMaker with a Neuron build of the engine; ec2/ecs hosts lack the Neuron AMI and devices. */
function checkNeuron({ d, at, add }: CheckContext): void {
  if (neuronCores(d.instanceType) === undefined) return;
  if (!SAGEMAKER.has(d.target)) {
    add(
      `target ${d.target} cannot run ${d.instanceType} (AWS Neuron) yet: its hosts have no Neuron AMI or device mapping`,
      at('instanceType'),
      `Use target: sagemaker-realtime (or sagemaker-async) with instanceType ml.inf2.xlarge (or another ml.inf2/ml.trn1 type) and engine lmi or tgi; or a GPU type such as g5.2xlarge on ${d.target}.`,
    );
  } else if (d.engine && !NEURON_ENGINES.has(d.engine.name)) {
    add(
      `engine ${d.engine.name} has no verified Neuron build for ${d.instanceType} (Inferentia/Trainium)`,
      at('engine'),
      'Use engine: { name: lmi } (DJL LMI neuronx) or engine: { name: tgi } (TGI neuronx), or a GPU instance type (ml.g5.2xlarge) for vllm.',
    );
  }
}

const SEMANTIC_CHECKS = [checkInstanceType, checkEngine, checkNeuron, checkScaling, checkServerTarget, checkSageMakerFields, checkImageRegion, checkAsync, checkRegions, checkWorkload];

function semanticChecks(d: Deployment, yaml: ParsedYaml, specDir: string): DeployError[] {
  const errs: DeployError[] = [];
  const ctx: CheckContext = {
    d,
    yaml,
    specDir,
    // A field's position: where the deployment writes it, else where defaults: does, else the deployment's key.
    at: (...p) => {
      for (const written of [['deployments', d.name, ...p], ['defaults', ...p]]) {
        if (valueAt(yaml.data, written) !== undefined) return yaml.locate(written);
      }
      return yaml.locate(['deployments', d.name], true);
    },
    add: (message, location, hint) =>
      errs.push(new DeployError(`deployments.${d.name}: ${message}`, { location, hint, title: 'Invalid deployment spec' })),
  };
  for (const check of SEMANTIC_CHECKS) check(ctx);
  return errs;
}

export interface LoadOptions {
  /** Shown in messages; defaults to the path as given. */
  displayPath?: string;
  /** How the user names the spec file: the CLI's flag ("--config"); absent, the action's `config` input. */
  configFlag?: string;
}

/** A spec file that is not there: what to create, and how the user names another (flag or input). */
export function missingSpecError(display: string, configFlag?: string, cause?: NodeJS.ErrnoException): DeployError {
  return new DeployError(
    !cause || cause.code === 'ENOENT' ? `config file ${display} does not exist` : `cannot read config file ${display}: ${cause.message}`,
    {
      location: { file: display },
      title: 'Missing deployment spec',
      hint: configFlag
        ? `Create ${DEFAULT_SPEC_FILE} here (see examples/model-deploy.yml), or pass ${configFlag} FILE.`
        : `Create ${DEFAULT_SPEC_FILE} at the repository root (see examples/model-deploy.yml), or point the \`config\` input at your spec.`,
    },
  );
}

export function loadSpec(file: string, options: LoadOptions = {}): Spec {
  const display = options.displayPath ?? file;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw missingSpecError(display, options.configFlag, err as NodeJS.ErrnoException);
  }
  return parseSpec(text, display, path.dirname(path.resolve(file)));
}

interface RawSpec {
  project?: string;
  environments?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  deployments: Record<string, Record<string, unknown>>;
}

const REQUIRED: [keyof DeploymentSpec, string][] = [
  ['model', 'where the weights come from (huggingface, s3 or image)'],
  ['target', 'sagemaker-realtime, sagemaker-async, ec2 or ecs'],
  ['instanceType', 'for example ml.g5.2xlarge'],
  ['regions', 'for example [us-east-1]'],
];

/** One deployment with defaults merged and applied, or the errors that stop it. */
function resolveDeployment(name: string, own: Record<string, unknown>, raw: RawSpec, yaml: ParsedYaml, file: string): Deployment | DeployError[] {
  const merged = mergeDefaults(raw.defaults ?? {}, own) as Record<string, unknown>;
  const missing = REQUIRED.filter(([k]) => merged[k] === undefined);
  if (missing.length > 0) {
    return missing.map(
      ([k, what]) =>
        new DeployError(`deployments.${name} is missing the required field "${k}"`, {
          location: yaml.locate(['deployments', name], true),
          hint: `${k}: ${what}. Set it on the deployment or under defaults.`,
          title: 'Invalid deployment spec',
        }),
    );
  }
  for (const obj of ['healthCheck', 'rollout', 'async', 'apiKey', 'security', 'build', 'usage', 'tags']) {
    if (merged[obj] === undefined) merged[obj] = {};
  }
  const v = validators();
  // Both halves were valid alone; a merged failure points at the deployment.
  if (!v.deployment(merged)) return schemaErrors(v.deployment.errors ?? [], yaml, ['deployments', name]);
  const d = merged as unknown as DeploymentSpec;
  d.tags = { ...d.tags };
  const project = raw.project ?? 'model-deploy';
  // The line is found when first read (a warning or an error): positions cost a second parse.
  const source = {
    file,
    get line(): number {
      return yaml.locate(['deployments', name], true).line ?? 1;
    },
  };
  return { ...d, name, project, source };
}

export function parseSpec(text: string, file: string, specDir = process.cwd()): Spec {
  const yaml = parseYaml(text, file);
  const v = validators();
  // On a copy: the validator fills in defaults (it shares its code with the per-deployment one), and
  // defaults are merged per deployment below, after the spec's own defaults: section.
  if (!v.document(structuredClone(yaml.data))) {
    throwIfAny(schemaErrors(v.document.errors ?? [], yaml));
  }
  const raw = yaml.data as RawSpec;
  const project = raw.project ?? 'model-deploy';
  const errors: DeployError[] = [];

  const environments: Record<string, EnvironmentSpec> = {};
  for (const [name, envRaw] of Object.entries(raw.environments ?? {})) {
    const env = structuredClone(envRaw) as EnvironmentSpec;
    v.environment(env);
    environments[name] = env;
  }

  const deployments: Record<string, Deployment> = {};
  for (const [name, own] of Object.entries(raw.deployments)) {
    const resolved = resolveDeployment(name, own, raw, yaml, file);
    if (Array.isArray(resolved)) {
      errors.push(...resolved);
      continue;
    }
    errors.push(...semanticChecks(resolved, yaml, specDir));
    deployments[name] = resolved;
  }
  errors.push(...environmentChecks(environments, Object.values(deployments), yaml));
  errors.push(...endpointNameChecks(Object.values(deployments), yaml));
  errors.push(...bedrockThroughputChecks(environments, Object.values(deployments), yaml));
  throwIfAny(errors);
  return { file, project, environments, deployments, locate: (p) => yaml.locate(p) };
}

/** The deployment an action works on: by name, or the only one when the spec has one. */
export function selectDeployment(spec: Spec, name: string | undefined, inputName = 'deployment'): Deployment {
  const names = Object.keys(spec.deployments);
  if (!name) {
    const [only, ...others] = Object.values(spec.deployments);
    if (only && others.length === 0) return only;
    throw new DeployError(`${spec.file} has ${names.length} deployments; say which one with the \`${inputName}\` input`, {
      location: { file: spec.file },
      hint: `Valid names: ${names.join(', ')}.`,
      title: 'Which deployment?',
    });
  }
  const d = spec.deployments[name];
  if (!d) {
    throw new DeployError(`unknown deployment "${name}" (input \`${inputName}\`)`, {
      location: spec.locate(['deployments']),
      hint: `${didYouMean(name, names)} Deployments in ${spec.file}: ${names.join(', ')}.`.trim(),
      title: 'Unknown deployment',
    });
  }
  return d;
}

/** The named environment, with a suggestion when the name is wrong. */
export function selectEnvironment(spec: Spec, name: string, inputName = 'environment'): EnvironmentSpec {
  const env = spec.environments[name];
  if (!env) {
    const names = Object.keys(spec.environments);
    throw new DeployError(`unknown environment "${name}" (input \`${inputName}\`)`, {
      location: spec.locate(['environments']),
      hint: names.length ? `${didYouMean(name, names)} Environments in ${spec.file}: ${names.join(', ')}.` : `${spec.file} defines no environments; add an environments: section.`,
      title: 'Unknown environment',
    });
  }
  return env;
}

/** Regions a deployment serves in an environment (the environment may narrow them). */
export function regionsFor(d: Deployment, env?: EnvironmentSpec): string[] {
  return env?.regions ?? d.regions;
}

/** Where promote-model buys a deployment's bedrockThroughput: the target environments, each with its regions. */
export interface ThroughputTarget {
  environment: string;
  regions: string[];
}

/** Its `environment`, else every environment with a promotionRoleArn (the promotion targets); none without the field. */
export function bedrockThroughputTargets(d: Deployment, environments: Record<string, EnvironmentSpec>): ThroughputTarget[] {
  const t = d.bedrockThroughput;
  if (!t) return [];
  const names = t.environment !== undefined ? [t.environment] : Object.keys(environments).filter((n) => environments[n]?.promotionRoleArn);
  return names.flatMap((name) => {
    const env = environments[name];
    return env ? [{ environment: name, regions: regionsFor(d, env) }] : [];
  });
}
