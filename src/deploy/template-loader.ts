/**
 * CloudFormation templates are YAML data in templates/stacks/. This parses them, short-form tags
 * included (!Ref, !Sub, !GetAtt ...), into the JSON form CloudFormation receives.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from '../core/errors';
import type { TargetKind } from '../config/types';
import type * as YamlLibrary from 'yaml';

type Json = Record<string, unknown>;

const FN_TAGS = [
  'Base64', 'Cidr', 'FindInMap', 'GetAZs', 'If', 'ImportValue', 'Join', 'Select', 'Split', 'Sub',
  'Equals', 'Not', 'And', 'Or', 'Transform',
];

function cfnTags(): YamlLibrary.Tags {
  const tags: YamlLibrary.Tags = [];
  const toJs = (node: unknown): unknown =>
    (node as { toJSON?: () => unknown }).toJSON ? (node as { toJSON: () => unknown }).toJSON() : node;
  const add = (tag: string, wrap: (value: unknown) => unknown) => {
    tags.push({ tag, resolve: (str: string) => wrap(str) });
    tags.push({ tag, collection: 'seq', resolve: (seq) => wrap(toJs(seq)) });
    tags.push({ tag, collection: 'map', resolve: (map) => wrap(toJs(map)) });
  };
  add('!Ref', (v) => ({ Ref: v }));
  add('!Condition', (v) => ({ Condition: v }));
  // !GetAtt Resource.Attribute is the scalar form; attributes may contain dots (Endpoint.Address).
  add('!GetAtt', (v) => {
    if (typeof v !== 'string') return { 'Fn::GetAtt': v };
    const dot = v.indexOf('.');
    return { 'Fn::GetAtt': [v.slice(0, dot), v.slice(dot + 1)] };
  });
  for (const fn of FN_TAGS) add(`!${fn}`, (v) => ({ [`Fn::${fn}`]: v }));
  return tags;
}

/** Parses template text; throws a DeployError naming file:line on invalid YAML or unknown tags. */
export function parseTemplate(text: string, file: string): Json {
  // Loaded here, not with the module: a cost estimate imports the stack's parameters, never a template.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const YAML = require('yaml') as typeof YamlLibrary;
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { customTags: cfnTags(), lineCounter, uniqueKeys: true, prettyErrors: false });
  const e = doc.errors[0] ?? doc.warnings[0];
  if (e) {
    const pos = lineCounter.linePos(e.pos[0]);
    throw new DeployError(`invalid template YAML: ${e.message.split('\n')[0]}`, {
      location: { file, line: pos.line, column: pos.col },
      title: 'Invalid template',
    });
  }
  return doc.toJS() as Json;
}

/** File names per target; literal so bundlers can see them. */
export const TEMPLATE_FILES: Record<TargetKind, string> = {
  'sagemaker-realtime': 'sagemaker-realtime.yaml',
  'sagemaker-async': 'sagemaker-async.yaml',
  ec2: 'ec2.yaml',
  ecs: 'ecs.yaml',
};

/**
 * templates/ sits at the repository root: two levels above src/deploy, three above dist/<action>/flow,
 * two above dist/cli. Look upward instead of hard-coding one layout.
 */
export function templatesDir(start = __dirname): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'templates', 'stacks');
    if (fs.existsSync(path.join(candidate, TEMPLATE_FILES['sagemaker-realtime']))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new DeployError(`templates/stacks not found above ${start}`, {
    title: 'Missing templates',
    hint: 'The action needs its whole repository checkout (templates/ next to dist/); do not copy dist/ alone.',
  });
}

/** A line of a !Sub script that stands for a shell file of templates/stacks (one copy of code two templates run). */
const INCLUDE = /^([ \t]*)# model-deploy:include ([\w.-]+\.sh)[ \t]*$/gm;

/**
 * The template with each include line of its !Sub scripts replaced by the file, escaped for !Sub (${x} is
 * CloudFormation's; the shell's is written ${!x}). An include anywhere else would reach the host unescaped:
 * refused, as is a missing file.
 */
export function inlineIncludes(node: unknown, dir: string, file: string, inSub = false): unknown {
  if (typeof node === 'string') {
    return node.replace(INCLUDE, (_line, indent: string, name: string) => {
      if (!inSub) throw new DeployError(`${file}: "# model-deploy:include ${name}" outside a !Sub script`, { title: 'Invalid template', hint: 'Includes are escaped for !Sub: put the line in a !Sub string.' });
      const included = path.join(dir, name);
      if (!fs.existsSync(included)) throw new DeployError(`${file}: includes ${name}, which templates/stacks does not have`, { title: 'Missing templates', hint: 'The action needs its whole repository checkout (templates/ next to dist/).' });
      const text = fs.readFileSync(included, 'utf8').replace(/\n+$/, '');
      return text.split('\n').map((l) => (l ? indent + l.replace(/\$\{/g, '${!') : l)).join('\n');
    });
  }
  if (Array.isArray(node)) {
    // Fn::Sub's long form, [script, variables]: only the script is a !Sub string.
    return node.map((item, i) => inlineIncludes(item, dir, file, inSub && i === 0));
  }
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, inlineIncludes(v, dir, file, k === 'Fn::Sub')]));
  }
  return node;
}

const cache = new Map<string, Json>();

/** The parsed template of a target (a fresh copy each call: render mutates it). */
export function loadTemplate(target: TargetKind): { file: string; template: Json } {
  const file = path.join(templatesDir(), TEMPLATE_FILES[target]);
  let parsed = cache.get(file);
  if (!parsed && !fs.existsSync(file)) {
    throw new DeployError(`target ${target} has no stack template in this version (templates/stacks/${TEMPLATE_FILES[target]})`, {
      title: 'Target not available',
      hint: 'Use target sagemaker-realtime or sagemaker-async.',
    });
  }
  if (!parsed) {
    const name = path.relative(process.cwd(), file) || file;
    parsed = inlineIncludes(parseTemplate(fs.readFileSync(file, 'utf8'), name), path.dirname(file), name) as Json;
    cache.set(file, parsed);
  }
  return { file: `templates/stacks/${TEMPLATE_FILES[target]}`, template: structuredClone(parsed) };
}
