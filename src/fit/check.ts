/**
 * The pre-merge checks of a spec's deployments that need the model's figures: will it start on its
 * instance type (./fit.ts), and which weights does it name (a Hugging Face branch or tag, resolved to
 * the commit it points at now). Each finding is said at the spec line of its field. `validate`,
 * `plan` and the estimate run it before anything is created; errors are DeployErrors.
 */
import { DeployError, SourceLocation, throwIfAny } from '../core/errors';
import type { Reporter } from '../core/log';
import { isCommitSha } from '../core/hf-hub';
import { knownInstanceTypes } from '../config/instance-types';
import { instanceTypeField } from '../config/region-truth';
import type { Deployment, Spec } from '../config/types';
import { Catalog, defaultCatalog } from '../prices/catalog';
import { CURRENCY_SYMBOL } from '../prices/currency';
import { acceleratedTypes, acceleratorsOf } from './accelerators';
import { EngineMemory, engineMemory } from './engine-memory';
import { checkFit, FitLoad, FitProblem, FitResult } from './fit';
import { FactsOptions, ModelFacts, modelFacts } from './model-facts';

export interface Finding {
  level: 'error' | 'warning' | 'note';
  deployment: string;
  message: string;
  hint?: string;
  location: SourceLocation;
}

/** The weights a Hugging Face source names: the revision as written and the commit it resolves to. */
export interface WeightsPin {
  id: string;
  revision: string;
  /** The commit SHA (the revision itself when it is one); undefined when the Hub was not reached. */
  sha?: string;
}

export interface DeploymentCheck {
  deployment: string;
  findings: Finding[];
  /** The memory check of the type deployed first (every type of a fallback list is checked, and its findings kept). */
  fit?: FitResult;
  facts: ModelFacts;
  pin?: WeightsPin;
  /** One line for the plan and the estimate. */
  summary: string;
}

export interface CheckOptions extends FactsOptions {
  catalog?: Catalog;
}

/** How many priced alternatives a refusal names. */
const ALTERNATIVES = 3;

function loadOf(d: Deployment): FitLoad {
  const w = d.workload;
  const concurrency = w.concurrency ?? (w.concurrencySteps?.length ? Math.max(...w.concurrencySteps) : undefined);
  return { concurrency, tokensPerRequest: w.promptTokens + w.outputTokens };
}

/**
 * The cheapest priced types of the deployment's target and first region on which the model starts,
 * with the engine sharded across every device (the setting to change is in the hint).
 */
export function cheapestThatFit(d: Deployment, engine: EngineMemory, facts: ModelFacts, catalog: Catalog): string[] {
  const region = d.regions[0] ?? '';
  const known = new Set(knownInstanceTypes(d.target));
  // The types the spec lists already are not alternatives to themselves.
  const listed = new Set([d.instanceType, ...d.instanceTypes]);
  const ml = d.target.startsWith('sagemaker') ? 'ml.' : '';
  const neuronEngine = engine.label === 'LMI' || engine.label === 'TGI';
  const candidates = acceleratedTypes()
    .map((t) => `${ml}${t}`)
    .filter((t) => known.has(t) && !listed.has(t))
    .flatMap((t) => {
      const acc = acceleratorsOf(t);
      const price = catalog.instanceHour(d.target, t, region);
      if (!acc || !price || (acc.neuron && (!ml || !neuronEngine))) return [];
      const result = checkFit(t, acc, { ...engine, tensorParallel: undefined }, facts);
      return result.verdict === 'fits' ? [{ t, acc, price }] : [];
    })
    .sort((a, b) => Number(a.price.price) - Number(b.price.price));
  return candidates.slice(0, ALTERNATIVES).map(({ t, acc, price }) => `${t} (${acc.count} × ${acc.memoryGiB} GiB, ${CURRENCY_SYMBOL[price.currency]}${Number(price.price).toFixed(2)}/h in ${region})`);
}

const FIELD_PATH: Record<FitProblem['field'], string[]> = { instanceType: ['instanceType'], engine: ['engine'], model: ['model'] };

/** One type's memory check; undefined when the type has no accelerator in the table. */
function typeFit(d: Deployment, type: string, engine: EngineMemory, facts: ModelFacts): FitResult | undefined {
  const acc = acceleratorsOf(type);
  return acc ? checkFit(type, acc, engine, facts, loadOf(d)) : undefined;
}

/** The message with the list position after the type's first mention ("on ml.g5.2xlarge (the capacity fallback's type 2 of 2)"). */
function withWhich(message: string, type: string, which: string): string {
  return which ? message.replace(type, `${type}${which}`) : message;
}

/** "fits on ml.g5.2xlarge (15.7 of 21.6 GiB usable)"; later types of a list as "fallback T: fits (…)". */
function verdictLine(type: string, fit: FitResult | undefined, index: number): string {
  const verdict = fit ? { fits: 'fits', 'no-fit': 'does not fit', unknown: 'not checked' }[fit.verdict] : 'not checked';
  const figures = fit?.usableGiB !== undefined && fit.neededGiB !== undefined ? ` (${fit.neededGiB.toFixed(1)} of ${fit.usableGiB.toFixed(1)} GiB usable)` : '';
  return index === 0 ? `${verdict} on ${type}${figures}` : `fallback ${type}: ${verdict}${figures}`;
}

/** The Hugging Face weights a deployment names and the commit its revision resolves to (from the model's figures). */
function weightsPin(d: Deployment, facts: ModelFacts): WeightsPin | undefined {
  const hf = d.model.huggingface;
  if (!hf) return undefined;
  const revision = hf.revision ?? 'main';
  return { id: hf.id, revision, sha: isCommitSha(revision) ? revision : facts.sha };
}

/** One deployment's checks. */
export async function checkDeployment(spec: Pick<Spec, 'locate'>, d: Deployment, options: CheckOptions = {}): Promise<DeploymentCheck> {
  const at = (...p: (string | number)[]) => () => spec.locate(['deployments', d.name, ...p]);
  const findings: Finding[] = [];
  // The location is found when first read: positions cost a second parse of the spec (the yaml library),
  // which a side whose findings are never shown (the estimate's base) need not pay.
  const add = (level: Finding['level'], message: string, locate: () => SourceLocation, hint?: string) => {
    let location: SourceLocation | undefined;
    findings.push({
      level,
      deployment: d.name,
      message,
      hint,
      get location() {
        return (location ??= locate());
      },
    });
  };
  const facts = await modelFacts(d, options);

  const pin = weightsPin(d, facts);
  if (pin && !isCommitSha(pin.revision)) {
    const now = pin.sha ? `; it is ${pin.sha} today, and that commit is what gets built` : facts.unresolved ? `; not resolved to a commit: ${facts.unresolved}` : '';
    add('warning', `model.huggingface.revision "${pin.revision}" is a branch or tag, not a commit: the weights it names can change upstream${now}`, at('model', 'huggingface'), `Pin the commit: revision: ${pin.sha ?? '<40-hex commit SHA from the Hub>'}.`);
  }

  // The capacity fallback may deploy any type of the list, so each must hold the model; each is
  // said at its own list item.
  const types = d.instanceTypes.length > 0 ? d.instanceTypes : [d.instanceType];
  const engine = engineMemory(d);
  const catalog = options.catalog ?? defaultCatalog();
  const verdicts: string[] = [];
  let fit: FitResult | undefined;
  let weightsOnly = false;
  for (const [i, type] of types.entries()) {
    const which = types.length > 1 ? ` (the capacity fallback's type ${i + 1} of ${types.length})` : '';
    const typeAt = at(...instanceTypeField(types, i));
    const fieldAt = (field: FitProblem['field']) => (field === 'instanceType' ? typeAt : at(...FIELD_PATH[field]));
    const result = typeFit(d, type, engine, facts);
    if (i === 0) fit = result;
    weightsOnly ||= engine.unknown === true && result !== undefined && result.verdict !== 'unknown';
    if (!result) {
      add('note', `memory not checked: ${type}${which} has no accelerator in the table`, typeAt);
      verdicts.push(verdictLine(type, undefined, i));
      continue;
    }
    for (const p of result.errors) {
      const cheaper = p.field === 'instanceType' ? cheapestThatFit(d, engine, facts, catalog) : [];
      const alternatives = cheaper.length > 0 ? `Types that can hold it, cheapest first: ${cheaper.join(', ')}.` : p.field === 'instanceType' ? 'No priced type in the table can hold it: quantise the model or split it across instances.' : '';
      const fallback = which && p.field === 'instanceType' ? `The deploy may take any type of the list: remove ${type} from it or replace it.` : '';
      add('error', withWhich(p.message, type, which), fieldAt(p.field), [p.hint, fallback, alternatives].filter(Boolean).join(' ') || undefined);
    }
    for (const p of result.warnings) add('warning', withWhich(p.message, type, which), fieldAt(p.field), p.hint);
    verdicts.push(verdictLine(type, result, i));
  }
  if (weightsOnly) add('note', `memory checked for the weights only: the KV cache and runtime settings of ${engine.label} are not known`, at('model'));
  for (const gap of facts.gaps) add('note', gap, at('model'));

  const weights = pin ? `, weights ${pin.id}@${pin.sha ?? pin.revision}${pin.sha && pin.sha !== pin.revision ? ` (${pin.revision})` : ''}` : '';
  const summary = `${d.name}: memory ${verdicts.join('; ')}${weights}`;
  return { deployment: d.name, findings, fit, facts, pin, summary };
}

/** Every deployment's checks, Hub answers shared between deployments of one model. */
export async function checkDeployments(spec: Pick<Spec, 'locate'>, deployments: Deployment[], options: CheckOptions = {}): Promise<DeploymentCheck[]> {
  const shared = { ...options, cache: options.cache ?? new Map() };
  const out: DeploymentCheck[] = [];
  for (const d of deployments) out.push(await checkDeployment(spec, d, shared));
  return out;
}

/** The errors of the checks, as DeployErrors at their spec lines (nothing may be created while any stands). */
export function checkErrors(checks: DeploymentCheck[]): DeployError[] {
  return checks.flatMap((c) =>
    c.findings.filter((f) => f.level === 'error').map((f) => new DeployError(`deployments.${f.deployment}: ${f.message}`, { location: f.location, hint: f.hint, title: 'Will not start' })),
  );
}

/** Warnings and notes as lines: "file:line: deployments.x: message". */
export function checkLines(checks: DeploymentCheck[], levels: Finding['level'][] = ['warning', 'note']): string[] {
  return checks.flatMap((c) =>
    c.findings
      .filter((f) => levels.includes(f.level))
      .map((f) => `${f.level}: ${f.location.file}${f.location.line ? `:${f.location.line}` : ''}: deployments.${f.deployment}: ${f.message}${f.hint ? ` (${f.hint})` : ''}`),
  );
}

/**
 * The deployment with its Hugging Face revision replaced by the commit it resolved to: the build
 * downloads that commit, and the image tag and the weights' S3 prefix hash it, so new upstream
 * weights make a new image. Unchanged when there is no commit to pin.
 */
export function pinnedDeployment(d: Deployment, pin: WeightsPin | undefined): Deployment {
  const hf = d.model.huggingface;
  if (!hf || !pin?.sha || hf.revision === pin.sha) return d;
  return { ...d, model: { ...d.model, huggingface: { ...hf, revision: pin.sha } } };
}

/**
 * build-model and deploy-endpoint, before their first AWS call: refuse what cannot start, say the
 * warnings at their spec lines, and return the deployment pinned to its commit.
 */
export async function checkBeforeCreate(spec: Pick<Spec, 'locate'>, d: Deployment, reporter: Reporter, options: CheckOptions = {}): Promise<Deployment> {
  const check = await checkDeployment(spec, d, options);
  throwIfAny(checkErrors([check]));
  for (const f of check.findings) {
    if (f.level === 'warning') reporter.warning(`deployments.${d.name}: ${f.message}${f.hint ? ` ${f.hint}` : ''}`, f.location, 'Pre-deploy check');
    else if (f.level === 'note') reporter.info(`${d.name}: ${f.message}`);
  }
  const pinned = pinnedDeployment(d, check.pin);
  if (pinned !== d) reporter.info(`${d.name}: ${check.pin?.id}@${check.pin?.revision} is commit ${check.pin?.sha} now.`);
  return pinned;
}

/** What the PR estimate prices: both sides at the commits their revisions name now, and what the checks said. */
export interface EstimateChecks {
  head: Deployment[];
  base: Deployment[];
  /** Lines for the estimate's notes: each deployment's verdict and weights, then every finding at its spec line. */
  notes: string[];
}

/**
 * The estimate's view of the checks: it says what validate and plan would refuse (annotations at the
 * spec lines, lines in the comment) but prices all the same; a Hub that refuses to answer is a note.
 * Head and base are pinned alike, so an unchanged branch gives equal image tags and a moved one a new build.
 */
export async function estimateChecks(
  head: { spec: Pick<Spec, 'locate'>; deployments: Deployment[] },
  base: { spec?: Pick<Spec, 'locate'>; deployments: Deployment[] },
  reporter: Reporter,
  options: CheckOptions = {},
): Promise<EstimateChecks> {
  const shared = { ...options, cache: options.cache ?? new Map() };
  const notes: string[] = [];
  const pinAll = async (spec: Pick<Spec, 'locate'> | undefined, deployments: Deployment[], say: boolean): Promise<Deployment[]> => {
    const out: Deployment[] = [];
    for (const d of deployments) {
      try {
        // A side whose findings are never shown (the estimate's base) needs only its pin: no memory checks,
        // no search for cheaper types (the same figures, so the same errors and the same pin).
        if (!say) {
          out.push(pinnedDeployment(d, weightsPin(d, await modelFacts(d, shared))));
          continue;
        }
        const check = await checkDeployment(spec ?? { locate: () => d.source }, d, shared);
        out.push(pinnedDeployment(d, check.pin));
        notes.push(check.summary);
        for (const f of check.findings) {
          if (f.level === 'error') reporter.error(`deployments.${d.name}: ${f.message}`, f.location, 'Will not start');
          else if (f.level === 'warning') reporter.warning(`deployments.${d.name}: ${f.message}`, f.location, 'Pre-deploy check');
        }
        notes.push(...checkLines([check], ['error', 'warning', 'note']));
      } catch (err) {
        if (!(err instanceof DeployError)) throw err;
        out.push(d);
        if (say) notes.push(`${d.name}: not checked: ${err.message}`);
      }
    }
    return out;
  };
  const pinnedHead = await pinAll(head.spec, head.deployments, true);
  const pinnedBase = await pinAll(base.spec, base.deployments, false);
  return { head: pinnedHead, base: pinnedBase, notes };
}
