/**
 * The figures the estimate job hands to the comment job (the workflow_run path for pull requests
 * from forks). The file comes from a pull request's job, so it is untrusted: it is validated
 * against a JSON Schema, the totals are computed again from the per-deployment figures, the budget
 * is checked again, and the comment job renders the body itself (render.ts escapes every string).
 * A body in the file is never posted.
 */
import type { ValidateFunction } from 'ajv';
import { DeployError } from '../core/errors';
import type { Budget, CostReport } from './report';
import { BUDGET_SCOPES, currencyTotals } from './report';

export const MARKER_PATTERN = '^<!-- model-deploy:estimate-cost config=[^\\n<>]* -->$';

/** What the comment job needs besides the report. */
export interface CommentFigures {
  marker: string;
  unchanged: boolean;
  pullRequest?: number;
  headSha?: string;
}

export interface Artifact {
  report: CostReport;
  budget: Budget;
  comment: CommentFigures;
}

// ---- the schema --------------------------------------------------------------------------------

const text = { type: 'string', maxLength: 2000 } as const;
const name = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._ ()-]{0,80}$' } as const;
const num = { type: 'number' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const texts = { type: 'array', maxItems: 500, items: text } as const;
const currency = { enum: ['USD', 'CNY'] } as const;
const nullable = (schema: object) => ({ anyOf: [{ type: 'null' }, schema] });
const object = (properties: Record<string, object>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

const range = object({ low: num, high: num }, ['low', 'high']);
const price = object(
  {
    service: name,
    key: name,
    region: name,
    currency,
    price: { type: 'string', pattern: '^\\d+(\\.\\d+)?$' },
    unit: text,
    origin: { enum: ['catalog', 'derived', 'catalog-other-region', 'live'] },
    source: text,
    asOf: text,
    note: text,
  },
  ['service', 'key', 'region', 'currency', 'price', 'unit', 'origin', 'source', 'asOf'],
);
const component = object({ kind: name, name: text, unit: text, quantity: nullable(range), price: nullable(price), monthlyCost: nullable(range), note: text }, ['kind', 'name', 'unit', 'quantity', 'price', 'monthlyCost']);
const resource = object({ kind: name, name: text, resourceType: name, region: name, components: { type: 'array', maxItems: 50, items: component } }, ['kind', 'name', 'resourceType', 'region', 'components']);
const oneTime = object({ minutes: num, computeType: name, cost: nullable(num), price: nullable(price), note: text, buildKey: { type: 'string', maxLength: 20000 }, imageTag: name }, ['minutes', 'computeType', 'cost', 'price', 'buildKey']);
const estimate = object(
  {
    name,
    target: { enum: ['sagemaker-realtime', 'sagemaker-async', 'ec2', 'ecs'] },
    instanceType: name,
    count: text,
    engine: text,
    regions: { type: 'array', items: name },
    allRegions: { type: 'array', items: name },
    currency,
    resources: { type: 'array', maxItems: 200, items: resource },
    monthly: range,
    oneTime,
    unpriced: texts,
    usageBased: texts,
    assumptions: texts,
  },
  ['name', 'target', 'instanceType', 'count', 'engine', 'regions', 'allRegions', 'currency', 'resources', 'monthly', 'oneTime', 'unpriced', 'usageBased', 'assumptions'],
);
const change = object(
  {
    name,
    label: name,
    currency,
    status: { enum: ['added', 'removed', 'changed', 'unchanged'] },
    past: estimate,
    next: estimate,
    pastMonthly: range,
    monthly: range,
    diff: range,
    percent: num,
    oneTime: nullable(num),
    oneTimeNote: text,
    unpriced: count,
    usageBased: count,
    benchmark: {
      anyOf: [
        object({ measured: { const: false } }, ['measured']),
        object(
          { measured: { const: true }, perMillionOutputTokens: nullable({ type: 'number', minimum: 0 }), currency, date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, commit: { type: 'string', pattern: '^[0-9a-f]{7}$' } },
          ['measured', 'perMillionOutputTokens', 'currency', 'date', 'commit'],
        ),
      ],
    },
  },
  ['name', 'label', 'currency', 'status', 'pastMonthly', 'monthly', 'diff', 'oneTime', 'unpriced', 'usageBased'],
);
const report = object(
  {
    project: name,
    hoursPerMonth: { type: 'number', exclusiveMinimum: 0, maximum: 744 },
    compared: { type: 'boolean' },
    baseNote: text,
    changes: { type: 'array', maxItems: 1000, items: change },
    totals: { type: 'array' },
    prices: { type: 'array', maxItems: 2000, items: price },
    assumptions: texts,
    priceNotes: texts,
    benchmarks: { type: 'boolean' },
  },
  ['project', 'hoursPerMonth', 'compared', 'changes', 'prices', 'assumptions', 'priceNotes'],
);
const budget = object(
  { maxMonthlyCost: num, maxIncrease: object({ amount: num, percent: num }, []), scope: { enum: [...BUDGET_SCOPES] } },
  [],
);
// Other fields (a body written by an older version, or planted) are ignored: the body is rendered here.
const commentFigures = { ...object({ marker: { type: 'string', pattern: MARKER_PATTERN }, unchanged: { type: 'boolean' }, pullRequest: { type: 'integer', minimum: 1 }, headSha: { type: 'string', pattern: '^[0-9a-f]{40}$' } }, ['marker', 'unchanged']), additionalProperties: true };

/** The part of the result file the comment job reads; other fields (the JSON result) are ignored. */
export const ARTIFACT_SCHEMA = { type: 'object', properties: { report, budget, comment: commentFigures }, required: ['report', 'budget', 'comment'] } as const;

let validator: ValidateFunction | undefined;

/** Compiled on first use: only comment mode needs it (and, in the bundle, loads Ajv as a chunk). */
async function validate(value: unknown): Promise<ValidateFunction['errors']> {
  if (!validator) {
    const { default: Ajv } = await import('ajv');
    validator = new Ajv({ allErrors: false, strict: false }).compile(ARTIFACT_SCHEMA);
  }
  return validator(value) ? null : validator.errors ?? [];
}

/** The artifact, validated, with totals computed again from the per-deployment figures. */
export async function readArtifact(value: unknown, file: string): Promise<Artifact> {
  const errors = await validate(value);
  if (errors) {
    const first = errors[0];
    throw new DeployError(`${file} is not a valid estimate-cost result: ${first ? `${first.instancePath || '/'} ${first.message ?? ''}` : 'schema mismatch'}`, {
      title: 'Invalid estimate result',
      hint: 'The comment job posts only figures produced by the estimate-cost action of the same version; nothing was posted.',
    });
  }
  const a = value as Artifact;
  const currencies = [...new Set(a.report.changes.map((c) => c.currency))].sort((x, y) => (x === y ? 0 : x === 'USD' ? -1 : 1));
  const changes = a.report.changes.map((c) => ({ ...c, diff: { low: c.monthly.low - c.pastMonthly.low, high: c.monthly.high - c.pastMonthly.high } }));
  return { ...a, report: { ...a.report, changes, totals: currencies.map((c) => currencyTotals(c, changes)) } };
}
