#!/usr/bin/env node
/**
 * Generates src/config/spec-types.generated.ts: the TypeScript shape of what the spec's validators
 * (scripts/schema-validators.js) accept, from schema/model-deploy.schema.json, so the types cannot
 * drift from the schema. What resolution adds (a deployment's name and position, required fields
 * that may come from `defaults:`, the resolved workload) is written by hand on top, in
 * src/config/types.ts.
 *
 * The types describe validated data with the schema's defaults applied (the per-deployment and
 * per-environment validators fill them in): a property is required when the schema requires it or
 * gives it a default. Only the shape is typed: patterns, bounds and the oneOf/anyOf/not rules that
 * say which fields go together stay with the validators. Schema nodes named in NAMES become exported
 * types; every other node is written inline.
 *
 *   node scripts/spec-types.js          regenerate
 *   node scripts/spec-types.js --check  exit 1 if the committed file is stale (npm test runs this
 *                                       through node scripts/schema-validators.js --check)
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const OUT = path.join(root, 'src', 'config', 'spec-types.generated.ts');

/** Schema node (JSON pointer) → exported type name, in the order they are written. */
const NAMES = {
  '#/definitions/region': 'Region',
  '#/definitions/environment': 'EnvironmentSpec',
  '#/definitions/modelSource': 'ModelSource',
  '#/definitions/engine/properties/name': 'EngineName',
  '#/definitions/engine': 'EngineSpec',
  '#/definitions/autoscaling': 'AutoscalingSpec',
  '#/definitions/deploymentFields/properties/target': 'TargetKind',
  '#/definitions/deploymentFields/properties/rollout/properties/strategy': 'RolloutStrategy',
  '#/definitions/deploymentFields/properties/build/properties/computeType': 'ComputeType',
  '#/definitions/deploymentFields/properties/bedrockThroughput/properties/commitment': 'Commitment',
  '#/definitions/deploymentFields/properties/bedrockThroughput': 'BedrockThroughputSpec',
  '#/definitions/workload/properties/objective': 'LatencyObjective',
  '#/definitions/workload': 'WorkloadFields',
  '#/definitions/deploymentFields': 'DeploymentFields',
};

function resolvePointer(schema, pointer) {
  return pointer
    .slice(2)
    .split('/')
    .reduce((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], schema);
}

/** A TypeScript literal, single-quoted as the sources are. */
function literal(value) {
  return typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : JSON.stringify(value);
}

function docComment(text, indent) {
  return text ? `${indent}/** ${text.replace(/\*\//g, '*\\/').replace(/\s+/g, ' ').trim()} */\n` : '';
}

function render() {
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema', 'model-deploy.schema.json'), 'utf8'));
  for (const pointer of Object.keys(NAMES)) {
    if (!resolvePointer(schema, pointer)) throw new Error(`${pointer} (NAMES) is not in the schema`);
  }

  /** The node a $ref leads to (a chain of refs followed), and its pointer. */
  const follow = (node, pointer) => {
    while (node.$ref) {
      if (!node.$ref.startsWith('#/')) throw new Error(`${pointer}: only local $refs are supported (${node.$ref})`);
      pointer = node.$ref;
      node = resolvePointer(schema, pointer);
    }
    return { node, pointer };
  };

  /** The TypeScript type of a schema node; `top` writes the named node itself rather than its name. */
  const typeOf = (given, givenPointer, indent, top = false) => {
    const { node, pointer } = follow(given, givenPointer);
    if (!top && NAMES[pointer]) return NAMES[pointer];
    if ('const' in node) return literal(node.const);
    if (node.enum) return node.enum.map(literal).join(' | ');
    switch (node.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const item = node.items ? typeOf(node.items, `${pointer}/items`, indent) : 'unknown';
        return /[ |]/.test(item) ? `(${item})[]` : `${item}[]`;
      }
      case 'object':
        if (node.properties) return objectType(node, pointer, indent);
        if (node.additionalProperties && typeof node.additionalProperties === 'object') {
          return `Record<string, ${typeOf(node.additionalProperties, `${pointer}/additionalProperties`, indent)}>`;
        }
        return 'Record<string, unknown>';
      case undefined:
        return 'unknown';
      default:
        throw new Error(`${pointer}: type ${JSON.stringify(node.type)} is not supported`);
    }
  };

  const objectType = (node, pointer, indent) => {
    const inner = `${indent}  `;
    const required = new Set(node.required ?? []);
    const lines = Object.entries(node.properties).map(([key, prop]) => {
      const at = `${pointer}/properties/${key}`;
      const target = follow(prop, at).node;
      const present = required.has(key) || 'default' in prop || 'default' in target;
      const description = prop.description ?? (NAMES[follow(prop, at).pointer] ? undefined : target.description);
      const name = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
      return `${docComment(description, inner)}${inner}${name}${present ? '' : '?'}: ${typeOf(prop, at, inner)};\n`;
    });
    return `{\n${lines.join('')}${indent}}`;
  };

  const out = [
    '// Generated by scripts/spec-types.js from schema/model-deploy.schema.json: do not edit.',
    '// Validated data with the schema\'s defaults applied; src/config/types.ts adds what resolution adds.',
    '',
  ];
  for (const [pointer, name] of Object.entries(NAMES)) {
    const node = follow(resolvePointer(schema, pointer), pointer).node;
    const type = typeOf(node, pointer, '', true);
    const doc = docComment(node.description, '');
    out.push(type.startsWith('{') ? `${doc}export interface ${name} ${type}\n` : `${doc}export type ${name} = ${type};\n`);
  }
  return out.join('\n');
}

/** Regenerates the module; returns true when its content changed. */
function generateSpecTypes({ write }) {
  const text = render();
  const current = fs.existsSync(OUT) ? fs.readFileSync(OUT, 'utf8') : '';
  if (text === current) return false;
  if (write) fs.writeFileSync(OUT, text);
  return true;
}

module.exports = { generateSpecTypes, SPEC_TYPES_FILE: OUT };

if (require.main === module) {
  const check = process.argv.includes('--check');
  const changed = generateSpecTypes({ write: !check });
  if (check && changed) {
    console.error(`${path.relative(root, OUT)} is stale: run node scripts/spec-types.js`);
    process.exit(1);
  }
  if (changed) console.log(`wrote ${path.relative(root, OUT)}`);
}
