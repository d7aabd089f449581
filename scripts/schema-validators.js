#!/usr/bin/env node
/**
 * Generates src/config/schema-validators.generated.js: the spec's JSON Schema validators as Ajv
 * "standalone" code. Compiling the schema with Ajv at run time cost about a second of every action's
 * start (it ran before the first AWS request); the generated functions load in a few milliseconds.
 * Options match what src/config/ needs: allErrors (report every problem at once), verbose
 * (errors carry parentSchema: the descriptions and field lists the messages quote), useDefaults (the
 * per-deployment and per-environment validators fill in the schema's defaults).
 *
 * Two sets from the one schema: a gate (Ajv without allErrors, its error objects replaced by 0: it only
 * says valid or not, and fills in the same defaults) answers for a valid spec, the usual case; the full
 * validators above, whose error objects are two thirds of their code, are built only when the gate
 * refuses something, and their answer and errors are the ones returned. A valid spec's first validation
 * compiled ~200 KB of code before; the gate is ~65 KB (minified), ~4 ms of every start on Node 24.
 *
 * Run as a command it also regenerates the spec's TypeScript types (scripts/spec-types.js): one step
 * keeps everything generated from the schema current.
 *
 *   node scripts/schema-validators.js          regenerate
 *   node scripts/schema-validators.js --check  exit 1 if a committed file is stale (npm test runs this)
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const OUT = path.join(root, 'src', 'config', 'schema-validators.generated.js');
// The full validators, required by the gate in OUT on a refusal: a file of its own, which the action bundles
// keep beside bundle.js (scripts/build.js), so a valid spec's run never parses it.
const FULL_OUT = path.join(root, 'src', 'config', 'schema-validators-full.generated.js');

/** One standalone module, wrapped in a function so two of them can share a file. */
function wrap(code) {
  return `(function () {\nconst module = { exports: {} };\nconst exports = module.exports;\n${code}\nreturn module.exports;\n})()`;
}

/**
 * The schema with deploymentFields and environment as schemas of their own, referenced by id from the
 * document: Ajv then compiles one function for each, which the document validator calls and the
 * module exports (with local "#/definitions/..." refs it compiles a second copy of each for the
 * exports). The data the validators accept is the same.
 */
function splitSchema(schema) {
  const OWN = ['deploymentFields', 'environment'];
  const rootId = schema.$id;
  const idOf = (name) => `urn:model-deploy:schema:${name}`;
  const retarget = (node, local) => {
    if (Array.isArray(node)) return node.map((n) => retarget(n, local));
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')) {
        const name = v.slice('#/definitions/'.length);
        out.$ref = OWN.includes(name) ? idOf(name) : local ? v : `${rootId}${v}`;
      } else out[k] = retarget(v, local);
    }
    return out;
  };
  const root = retarget(schema, true);
  for (const name of OWN) delete root.definitions[name];
  return { root, parts: OWN.map((name) => [idOf(name), { ...retarget(schema.definitions[name], false), $id: idOf(name) }]) };
}

/**
 * The gate's code: every error object literal ({instancePath, schemaPath, keyword, ...}) becomes 0.
 * Ajv counts errors by the length of its error arrays and never reads the objects, so validity and
 * the defaults filled in are unchanged; the call contexts ({instancePath, parentData, ...}) stay.
 * The scan skips double-quoted strings (Ajv writes every string so) and refuses code it did not expect.
 */
function withoutErrorObjects(code) {
  let out = '';
  let i = 0;
  for (;;) {
    const start = code.indexOf('{instancePath', i);
    if (start < 0) break;
    out += code.slice(i, start);
    let depth = 0;
    let end = start;
    for (; end < code.length; end++) {
      const c = code[end];
      if (c === '"') {
        for (end++; code[end] !== '"'; end++) if (code[end] === '\\') end++;
      } else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    const literal = code.slice(start, end + 1);
    out += /^\{instancePath[^{}]*schemaPath:/.test(literal) ? '0' : literal;
    i = end + 1;
  }
  out += code.slice(i);
  if (/schemaPath:|[`']/.test(out.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) throw new Error('schema-validators: the gate still has an error object or a string form Ajv did not write before; update withoutErrorObjects');
  return out;
}

/** One Ajv with these options, the document and its two parts added; standalone code of the three. */
function standaloneCode(options) {
  const Ajv = require('ajv').default;
  const standalone = require('ajv/dist/standalone').default;
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema', 'model-deploy.schema.json'), 'utf8'));
  const ajv = new Ajv({ strict: false, useDefaults: true, code: { source: true }, ...options });
  const { root: document, parts } = splitSchema(schema);
  ajv.addSchema(document, 'spec');
  for (const [, part] of parts) ajv.addSchema(part);
  const [[deploymentId], [environmentId]] = parts;
  return standalone(ajv, { document: 'spec', deployment: deploymentId, environment: environmentId });
}

function render() {
  // One Ajv, useDefaults on, and each part compiled once (splitSchema): the document validator calls
  // the per-deployment and per-environment functions, so V8 compiles each once per run. load.ts
  // validates the document on a copy, so the defaults it fills in are not kept there.
  const full = standaloneCode({ allErrors: true, verbose: true });
  const gate = withoutErrorObjects(standaloneCode({ allErrors: false, messages: false }));
  const header = '// Generated by scripts/schema-validators.js from schema/model-deploy.schema.json: do not edit.';
  const version = require('ajv/package.json').version;
  const gateText = [
    header,
    `// Ajv ${version} standalone code: a gate (no allErrors, no error objects) with useDefaults; the full validators are ./schema-validators-full.generated.js.`,
    '/* eslint-disable */',
    "'use strict';",
    '// Says valid or not and fills in the defaults; a valid spec needs nothing else.',
    `const gate = ${wrap(gate)};`,
    'let full;',
    'function validator(name) {',
    '  const validate = (data) => {',
    '    if (gate[name](data)) {',
    '      validate.errors = null;',
    '      return true;',
    '    }',
    '    // Every problem with its schema (the messages quote it), on what the gate saw: it filled in only',
    '    // defaults the full validator fills in too.',
    "    full = full || require('./schema-validators-full.generated');",
    '    const valid = full[name](data);',
    '    validate.errors = full[name].errors;',
    '    return valid;',
    '  };',
    '  return validate;',
    '}',
    "exports.document = validator('document');",
    "exports.deployment = validator('deployment');",
    "exports.environment = validator('environment');",
    '',
  ].join('\n');
  const fullText = [
    header,
    `// Ajv ${version} standalone code (allErrors, verbose, useDefaults): required by ./schema-validators.generated.js when its gate refuses something.`,
    '/* eslint-disable */',
    "'use strict';",
    `const validators = ${wrap(full)};`,
    'exports.document = validators.document;',
    'exports.deployment = validators.deployment;',
    'exports.environment = validators.environment;',
    '',
  ].join('\n');
  return [
    [OUT, gateText],
    [FULL_OUT, fullText],
  ];
}

/** Regenerates both modules; returns true when the content of either changed. */
function generateValidators({ write }) {
  let changed = false;
  for (const [file, text] of render()) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (text === current) continue;
    changed = true;
    if (write) fs.writeFileSync(file, text);
  }
  return changed;
}

module.exports = { generateValidators, splitSchema, FULL_VALIDATORS_FILE: FULL_OUT };

if (require.main === module) {
  const { generateSpecTypes, SPEC_TYPES_FILE } = require('./spec-types');
  const check = process.argv.includes('--check');
  const stale = [
    [path.join(root, 'src', 'config', 'schema-validators*.generated.js'), generateValidators({ write: !check })],
    [SPEC_TYPES_FILE, generateSpecTypes({ write: !check })],
  ].filter(([, changed]) => changed).map(([file]) => path.relative(root, file));
  if (check && stale.length > 0) {
    console.error(`${stale.join(' and ')} ${stale.length > 1 ? 'are' : 'is'} stale: run node scripts/schema-validators.js`);
    process.exit(1);
  }
  for (const file of stale) console.log(`wrote ${file}`);
}
