// Evaluates a job of a workflow the way the runner does, with GitHub's own parser and expression
// evaluator (@actions/workflow-parser, @actions/expressions: ESM only, hence a script the CommonJS
// jest test spawns). stdin: {"workflow": path, "job": id, "contexts": {...}} or {"action": path, "contexts": {...}};
// with --serve, one such request per line and one answer per line.
// stdout: the job's `if:`, outputs and steps with `uses:`/`run:` and evaluated `with:`/`env:`/`if:`;
// or an action's input defaults evaluated. Errors of parsing or evaluating are returned, never hidden.
import { readFileSync } from 'node:fs';
import { register } from 'node:module';

// The parser imports its JSON schemas without `with { type: 'json' }` (it is meant for bundlers); Node
// refuses that, so a load hook adds the attribute before the parser is imported.
const hook = `export async function load(url, context, next) {
  return next(url, url.endsWith('.json') ? { ...context, importAttributes: { type: 'json' } } : context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url);
const { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow, isString } = await import('@actions/workflow-parser');
const { parseAction } = await import('@actions/workflow-parser/actions/action-parser');
const { data, Evaluator, Lexer, Parser } = await import('@actions/expressions');

const CONTEXTS = ['github', 'inputs', 'vars', 'secrets', 'env', 'matrix', 'strategy', 'needs', 'steps', 'job', 'jobs', 'runner'];

// Status functions: `status` is the job's state when the step's `if:` is evaluated.
function statusFunctions(status) {
  const fn = (name, value) => ({ name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(value) });
  return [
    fn('success', status === 'success'),
    fn('failure', status === 'failure'),
    fn('cancelled', false),
    fn('always', true),
    { name: 'hashFiles', minArgs: 1, maxArgs: 255, call: () => new data.StringData('') },
  ];
}

function evaluate(expression, contexts, status = 'success') {
  const functions = statusFunctions(status);
  const tokens = new Lexer(expression).lex().tokens;
  const tree = new Parser(tokens, CONTEXTS, functions).parse();
  const dict = JSON.parse(JSON.stringify(contexts), data.reviver);
  return new Evaluator(tree, dict, new Map(functions.map((f) => [f.name.toLowerCase(), f]))).evaluate();
}

/** The runner's string form of an expression result (inputs and env are strings). */
function asString(result) {
  switch (result.kind) {
    case data.Kind.Null:
      return '';
    case data.Kind.Boolean:
      return result.value ? 'true' : 'false';
    case data.Kind.Array:
    case data.Kind.Dictionary:
    case data.Kind.CaseSensitiveDictionary:
      return JSON.stringify(result, data.replacer, 2);
    default:
      return result.coerceString();
  }
}

function truthy(result) {
  switch (result.kind) {
    case data.Kind.Null:
      return false;
    case data.Kind.Boolean:
      return result.value;
    case data.Kind.Number:
      return result.value !== 0 && !Number.isNaN(result.value);
    case data.Kind.String:
      return result.value !== '';
    default:
      return true;
  }
}

/** A scalar token: a literal or an expression (a string with ${{ }} inside is a format() expression). */
function scalar(token, contexts, errors, where) {
  if (!token) return undefined;
  if (!token.isExpression) return String(token.value ?? '');
  try {
    return asString(evaluate(token.expression, contexts));
  } catch (err) {
    errors.push(`${where}: ${token.expression}: ${err.message}`);
    return '';
  }
}

function mapping(token, contexts, errors, where) {
  const out = {};
  if (!token) return out;
  for (const pair of token) {
    const key = isString(pair.key) ? pair.key.value : String(pair.key);
    out[key] = scalar(pair.value, contexts, errors, `${where}.${key}`);
  }
  return out;
}

function condition(token, contexts, status, errors, where) {
  if (!token) return status === 'success';
  try {
    return truthy(evaluate(token.expression, contexts, status));
  } catch (err) {
    errors.push(`${where}: ${token.expression}: ${err.message}`);
    return false;
  }
}

async function evaluateJob(request) {
  const content = readFileSync(request.workflow, 'utf8');
  const parsed = parseWorkflow({ name: request.workflow, content }, new NoOperationTraceWriter());
  const parseErrors = parsed.context.errors.getErrors().map((e) => e.message);
  if (!parsed.value) return { errors: parseErrors };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const errors = [...parseErrors, ...(template.errors ?? []).map((e) => e.Message)];
  const job = template.jobs.find((j) => j.id.value === request.job);
  if (!job) return { errors: [...errors, `no job ${request.job}`] };
  const contexts = request.contexts;
  const status = request.status ?? 'success';
  const raw = rawSteps(parsed.value, request.job);
  const steps = job.steps.map((step, index) => {
    const explicitId = raw[index] && field(raw[index], 'id') ? step.id : undefined;
    const where = `steps[${index}]${explicitId ? `(${explicitId})` : ''}`;
    return {
      id: explicitId,
      name: step.name ? scalar(step.name, contexts, errors, `${where}.name`) : undefined,
      uses: step.uses ? step.uses.value : undefined,
      run: step.run ? step.run.value : undefined,
      if: condition(step.if, contexts, status, errors, `${where}.if`),
      with: mapping(raw[index] && field(raw[index], 'with'), contexts, errors, `${where}.with`),
      env: mapping(step.env, contexts, errors, `${where}.env`),
    };
  });
  return {
    if: condition(job.if, contexts, 'success', errors, 'job.if'),
    outputs: mapping(job.outputs, contexts, errors, 'job.outputs'),
    environment: job.environment ? environmentName(job.environment, contexts, errors) : undefined,
    steps,
    errors,
  };
}

function field(mappingToken, name) {
  for (const pair of mappingToken) if (isString(pair.key) && pair.key.value === name) return pair.value;
  return undefined;
}

/** The converted model drops a step's `with:`: read it from the parsed token tree (same order). */
function rawSteps(root, jobId) {
  const jobs = field(root, 'jobs');
  const job = jobs && field(jobs, jobId);
  const steps = job && field(job, 'steps');
  return steps ? [...steps] : [];
}

function environmentName(token, contexts, errors) {
  if (token.isExpression || token.isLiteral) return scalar(token, contexts, errors, 'job.environment');
  for (const pair of token) if (isString(pair.key) && pair.key.value === 'name') return scalar(pair.value, contexts, errors, 'job.environment.name');
  return undefined;
}

function evaluateAction(request) {
  const content = readFileSync(request.action, 'utf8');
  const errors = [];
  const parsed = parseAction({ name: request.action, content }, new NoOperationTraceWriter());
  errors.push(...parsed.context.errors.getErrors().map((e) => e.message));
  const inputs = {};
  const root = parsed.value;
  for (const pair of root ?? []) {
    if (pair.key.value === 'inputs') {
      for (const input of pair.value) {
        for (const prop of input.value) {
          if (prop.key.value === 'default') inputs[input.key.value] = scalar(prop.value, request.contexts, errors, `inputs.${input.key.value}.default`);
        }
      }
    }
    if (pair.key.value === 'runs') for (const prop of pair.value) if (prop.key.value === 'main') inputs['runs.main'] = prop.value.value;
  }
  const main = inputs['runs.main'];
  delete inputs['runs.main'];
  return { defaults: inputs, main, errors };
}

/** A caller's job that `uses:` a reusable workflow: which one, and its `with:` evaluated. */
async function evaluateCaller(request) {
  const content = readFileSync(request.caller, 'utf8');
  const parsed = parseWorkflow({ name: request.caller, content }, new NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (!parsed.value) return { errors };
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  errors.push(...(template.errors ?? []).map((e) => e.Message));
  const job = template.jobs.find((j) => j.id.value === request.job);
  if (!job || job.type !== 'reusableWorkflowJob') return { errors: [...errors, `no reusable-workflow job ${request.job}`] };
  return { uses: job.ref.value, with: mapping(job['input-values'], request.contexts, errors, 'with'), errors };
}

const answer = async (request) => {
  if (request.action) return evaluateAction(request);
  if (request.caller) return evaluateCaller(request);
  return evaluateJob(request);
};

if (process.argv.includes('--serve')) {
  // One request per line, one answer per line: the test keeps one process for the whole journey.
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let result;
    try {
      result = await answer(JSON.parse(line));
    } catch (err) {
      result = { errors: [`workflow-eval: ${err.stack ?? err}`] };
    }
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
} else {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  process.stdout.write(JSON.stringify(await answer(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
}
