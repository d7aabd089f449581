// Reads a workflow file with GitHub's own parser (@actions/workflow-parser: ESM only, hence a script the
// CommonJS jest test spawns, as tests/journey/workflow-eval.mjs does) and prints its model as JSON:
// parse and conversion errors, the events, and per job what the converted template keeps (type, needs,
// environment, if) plus what it drops, read from the parsed token tree (permissions, outputs, steps' with/env).
// Expressions are printed as "${{ expr }}". Usage: node workflow-model.mjs FILE
import { readFileSync } from 'node:fs';
import { register } from 'node:module';

// The parser imports its JSON schemas without `with { type: 'json' }` (it is meant for bundlers).
const hook = `export async function load(url, context, next) {
  return next(url, url.endsWith('.json') ? { ...context, importAttributes: { type: 'json' } } : context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url);
const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow, isMapping, isSequence, isLiteral, isString } = await import('@actions/workflow-parser');

/** A token tree as plain JSON: mappings, sequences, literal values, expressions as "${{ expr }}". */
function plain(token) {
  if (!token) return undefined;
  if (isMapping(token)) {
    const out = {};
    for (const pair of token) out[isString(pair.key) ? pair.key.value : String(pair.key)] = plain(pair.value);
    return out;
  }
  if (isSequence(token)) return [...token].map(plain);
  if (isLiteral(token)) return token.value;
  if (token.isExpression) return `\${{ ${token.expression} }}`;
  return String(token);
}

const file = process.argv[2];
const parsed = parseWorkflow({ name: file, content: readFileSync(file, 'utf8') }, new NoOperationTraceWriter());
const errors = parsed.context.errors.getErrors().map((e) => e.message);
let result = { errors };
if (parsed.value) {
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  errors.push(...(template.errors ?? []).map((e) => e.Message));
  const raw = plain(parsed.value);
  const jobs = template.jobs.map((job) => {
    const rawJob = raw.jobs[job.id.value];
    return {
      id: job.id.value,
      type: job.type,
      needs: (job.needs ?? []).map((n) => n.value),
      environment: plain(job.environment),
      if: job.if ? job.if.expression ?? String(job.if.value) : undefined,
      permissions: rawJob.permissions,
      outputs: rawJob.outputs,
      uses: rawJob.uses,
      steps: (rawJob.steps ?? []).map((step) => ({
        id: step.id,
        name: step.name,
        uses: step.uses,
        run: step.run,
        if: step.if,
        with: step.with,
        env: step.env,
      })),
    };
  });
  result = { errors, events: template.events, permissions: raw.permissions, concurrency: raw.concurrency, jobs };
}
process.stdout.write(JSON.stringify(result));
