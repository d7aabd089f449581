/**
 * The offline plan: resolve and validate the spec, then ask each domain for what it would create:
 * the build (buildspec, Dockerfile), the stack (template, parameters) per region, and the cost.
 * No AWS account needed; the Hugging Face Hub is asked only for what the spec leaves out (src/fit).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BedrockDeployment, Deployment, Spec } from '../config/types';
import { regionsFor } from '../config/regions';
import { selectDeployment, selectEnvironment } from '../config/select';
import { DeployError, throwIfAny } from '../core/errors';
import { environmentRegionTruth } from '../config/region-truth';
import type { PlanFile, PlanPart } from '../core/plan-part';
import { pinnedDeployment } from '../fit/check';
import { checkSpec } from './check';
import { planBuild } from '../image/plan';
import { planStack } from '../deploy/plan';
import { planCost } from '../cost/plan';
import { planBedrock } from './bedrock';

export interface PlanOptions {
  deployment?: string;
  environment?: string;
  outDir: string;
  hoursPerMonth?: number;
}

export interface PlanResult {
  files: string[];
  summary: string[];
  /** The environment planned: the one asked for, else the spec's first (undefined when it has none). */
  environment?: string;
}

export async function plan(spec: Spec, options: PlanOptions): Promise<PlanResult> {
  // A target: bedrock deployment is planned by its own part (no build, stack or instance).
  const oneBedrock = options.deployment ? spec.bedrockDeployments[options.deployment] : undefined;
  const bedrock: BedrockDeployment[] = options.deployment ? (oneBedrock ? [oneBedrock] : []) : Object.values(spec.bedrockDeployments);
  const selected: Deployment[] = oneBedrock ? [] : options.deployment ? [selectDeployment(spec, options.deployment, '--deployment')] : Object.values(spec.deployments);
  // Stack, endpoint and secret names carry the environment: without one the plan would show names no
  // deploy creates.
  const environmentName = options.environment ?? Object.keys(spec.environments ?? {})[0];
  const environment = environmentName ? selectEnvironment(spec, environmentName, '--environment') : undefined;
  const { checks, lines } = await checkSpec(spec, selected);
  // Each Hugging Face source at the commit its revision resolves to: the image tag the build will give.
  const deployments = selected.map((d, i) => pinnedDeployment(d, checks[i]?.pin));
  throwIfAny(environmentRegionTruth(spec, deployments, environmentName));
  const parts: PlanPart[] = [];
  for (const d of deployments) {
    const regions = regionsFor(d, environment);
    // build-model builds in the first region the deployment has in the environment.
    // Environment regions come from the same schema list as a deployment's.
    parts.push(prefix(`${d.name}`, planBuild({ ...d, regions: regions as Deployment['regions'] })));
    for (const region of regions) {
      parts.push(prefix(`${d.name}/${region}`, planStack(d, { spec, region, environmentName, environment })));
    }
  }
  for (const b of bedrock) parts.push(planBedrock(spec, b, environmentName, environment));
  // What the checks found (the memory verdict, the pinned weights, warnings at their lines), then the cost.
  parts.push({ files: [], summary: lines });
  // Templates never depend on prices: they are complete before the cost is looked at.
  parts.push(await costPart(spec, deployments, bedrock, { ...options, environment: environmentName }));
  parts.push(indexPart(parts, environmentName, options.environment === undefined));
  return { files: writeParts(parts, options.outDir), summary: parts.flatMap((p) => p.summary), environment: environmentName };
}

/** What each file of a plan is, by its name. */
const FILE_ROLES: [RegExp, string][] = [
  [/\/build\/buildspec\.yml$/, 'the CodeBuild buildspec build-model runs'],
  [/\/build\/Dockerfile$/, 'the serving image build-model builds'],
  [/\/build\/Dockerfile\.txt$/, 'how the custom Dockerfile is built'],
  [/\/template\.json$/, 'the CloudFormation template deploy-endpoint creates a change set from'],
  [/\/parameters\.json$/, 'its parameters'],
  [/\/bedrock\.json$/, 'the Bedrock custom model promote-model copies: its copies, throughput, key and region checks'],
  [/^cost\/estimate\.md$/, 'the cost estimate, as the pull-request comment shows it'],
  [/^cost\/estimate\.json$/, 'the same estimate as data'],
  [/^cost\/unpriced\.json$/, 'deployments without a price, and why'],
];

/** README.md of the output folder: what was planned, for which environment, and what each file is. */
function indexPart(parts: PlanPart[], environmentName: string | undefined, defaulted: boolean): PlanPart {
  const files = parts.flatMap((p) => p.files.map((f) => f.path));
  const roleOf = (f: string) => FILE_ROLES.find(([re]) => re.test(f))?.[1];
  const which = environmentName
    ? `environment \`${environmentName}\`${defaulted ? ' (the first of the spec; `--environment` plans another)' : ''}`
    : 'no environment (the spec has none)';
  const content = [
    '# Plan',
    '',
    `Written offline by \`model-deploy plan\` for ${which}: what build-model and deploy-endpoint would create. Nothing here was sent to AWS.`,
    '',
    ...files.map((f) => `- \`${f}\`${roleOf(f) ? `: ${roleOf(f)}` : ''}`),
    '',
  ].join('\n');
  return { files: [{ path: 'README.md', content }], summary: [] };
}

function writeParts(parts: PlanPart[], outDir: string): string[] {
  const written: string[] = [];
  for (const part of parts) {
    for (const f of part.files) {
      const target = path.join(outDir, f.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content);
      written.push(target);
    }
  }
  return written;
}

/**
 * The cost part, with what cannot be priced (no catalogue price, usage not given) shown as unpriced:
 * planCost prices all deployments or throws, so after a failure the ones it cannot price are found
 * one by one and the rest priced together.
 */
async function costPart(spec: Spec, deployments: Deployment[], bedrock: BedrockDeployment[], options: PlanOptions): Promise<PlanPart> {
  const costOptions = { environmentName: options.environment, hoursPerMonth: options.hoursPerMonth };
  // Bedrock throughput is priced with the rest (never unpriced as a whole: its rows say unpriced themselves).
  const withBedrock = { ...costOptions, bedrock };
  const unpricedReason = async (d: Deployment): Promise<DeployError | undefined> =>
    planCost(spec, [d], costOptions).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof DeployError) return err;
        throw err;
      },
    );
  try {
    return await planCost(spec, deployments, withBedrock);
  } catch (err) {
    if (!(err instanceof DeployError)) throw err;
  }
  const unpriced: [Deployment, DeployError][] = [];
  for (const d of deployments) {
    const reason = await unpricedReason(d);
    if (reason) unpriced.push([d, reason]);
  }
  const priced = deployments.filter((d) => !unpriced.some(([u]) => u === d));
  const part: PlanPart = priced.length > 0 || bedrock.length > 0 ? await planCost(spec, priced, withBedrock) : { files: [], summary: [] };
  if (unpriced.length === 0) return part;
  return withUnpriced(part, unpriced);
}

function withUnpriced(part: PlanPart, unpriced: [Deployment, DeployError][]): PlanPart {
  const reasonOf = (e: DeployError) => e.message.replace(/^deployments\.[^:]+: /, '');
  const section =
    `## Unpriced\n\nThese deployments have no estimate (never $0): their templates are written all the same.\n\n` +
    unpriced.map(([d, e]) => `- **${d.name}**: unpriced: ${reasonOf(e)}${e.hint ? `\n  ${e.hint}` : ''}`).join('\n') +
    '\n';
  const hasMarkdown = part.files.some((f) => f.path === MARKDOWN);
  const files = hasMarkdown
    ? part.files.map((f) => (f.path === MARKDOWN ? { ...f, content: `${f.content.trimEnd()}\n\n${section}` } : f))
    : [...part.files, { path: MARKDOWN, content: `# Cost estimate\n\n${section}` }];
  const unpricedJson = { path: 'cost/unpriced.json', content: JSON.stringify(unpriced.map(([d, e]) => ({ deployment: d.name, reason: reasonOf(e), hint: e.hint })), null, 2) + '\n' };
  return {
    files: [...files, unpricedJson],
    summary: [
      ...part.summary,
      ...(part.summary.length > 0 ? [`cost: the total above leaves out ${unpriced.map(([d]) => d.name).join(', ')} (unpriced, not $0)`] : []),
      ...unpriced.map(([d, e]) => `${d.name}: unpriced: ${reasonOf(e)} (templates written; see ${MARKDOWN})`),
    ],
  };
}

const MARKDOWN = 'cost/estimate.md';

function prefix(dir: string, part: PlanPart): PlanPart {
  return { summary: part.summary, files: part.files.map((f: PlanFile) => ({ ...f, path: path.join(dir, f.path) })) };
}
