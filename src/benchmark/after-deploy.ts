/**
 * The benchmark after a deploy (deploy-endpoint's `benchmark` input, off by default): for each region
 * whose endpoint is up, the spec's workload through the target's own route (SageMaker response stream,
 * SageMaker async through S3, HTTPS with the API key for ecs/ec2), bounded by the workload's requests
 * and time and by an overall limit, priced from the price catalogue in the region's currency. Writes
 * each region's record for the pull-request cost comment to the results folder (src/benchmark/results.ts)
 * and returns, per region, the JSON (vLLM's field names) and the markdown for the job summary.
 */
import * as path from 'path';
import type { RunContext } from '../core/action';
import type { Credentials } from '../core/aws';
import type { Target } from '../config/select';
import type { Deployment } from '../config/types';
import type { RegionResult } from '../deploy/region';
import { arnAccount } from '../core/arn';
import { Catalog, currencyOf, defaultCatalog } from '../prices/catalog';
import { servedModelName } from '../image/render';
import { benchClientFor, DeployedEndpoint, endpointApiKey, endpointFromOutputs } from './endpoint';
import { bestStep, HourlyPrice, pricePerformance, PricePerformance } from './price-performance';
import { hashOfImageUri, imageHashOf } from './image-hash';
import { filePrompts } from './prompts';
import { benchmarkJson, renderMarkdown } from './render';
import { BenchmarkResultRecord, resultRecord, writeResult } from './results';
import { runBenchmark } from './runner';
import type { BenchClient } from './types';

/** What the benchmark after a deploy asks for, beyond the target. */
export interface AfterDeployRequest {
  /** The deploy's region results: each region whose endpoint is up is measured. */
  deployed: readonly RegionResult[];
  /** Folder the result records go to, relative to the workspace (deploy-endpoint's benchmark-results). */
  resultsDir: string;
  /**
   * The serving image's content hash, as the PR job computes it offline (image-hash.ts): default
   * renderBuild's tag for the region (`md-<40 hex>`), or the digest of a prebuilt image pinned by
   * digest. Give it only to override. Without one, no result record is made (nothing to key it by).
   */
  imageHash?: string;
  /**
   * The image the deploy was given (deploy-endpoint's image-uri), when it was: its content hash is its
   * md-<40 hex> tag or its digest; an image named by another tag has none (no record, it could move).
   */
  imageUri?: string;
  credentials?: Credentials;
  /** Repository root: the workload's promptsFile is relative to it. */
  workspace: string;
  /** Ceiling on the whole run per region, ms (default 30 minutes); the workload's own bounds come first. */
  timeoutMs?: number;
  catalog?: Catalog;
  /** Test seam: the client for an endpoint (default: the target's own, see benchClientFor). */
  clientFor?: (endpoint: DeployedEndpoint, deployment: Deployment, apiKey: string | undefined) => BenchClient;
}

export interface AfterDeployResult {
  region: string;
  endpoint: string;
  /** vLLM's field names (benchmarkJson). */
  json: Record<string, unknown>;
  /** Table, price-performance and, when the concurrency stepped, the latency chart. */
  markdown: string;
  /** The record for the cost comment; absent without an image hash or a commit. */
  resultRecord?: BenchmarkResultRecord;
  /** Where the record was written. */
  resultFile?: string;
  price?: PricePerformance;
}

/** Regions whose endpoint is up after this run (a created-only change set has none to measure). */
const MEASURABLE: ReadonlySet<RegionResult['status']> = new Set(['deployed', 'no-changes']);
const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** The catalogue's price of one instance-hour in the region, in its currency (CNY in China). */
export function instanceHourlyPrice(d: Deployment, region: string, catalog: Catalog = defaultCatalog()): HourlyPrice | undefined {
  const service = d.target.startsWith('sagemaker') ? 'sagemaker-hosting' : 'ec2';
  const found = catalog.find(service, d.instanceType, region) ?? (service === 'sagemaker-hosting' ? catalog.derivedSageMaker(d.instanceType, region) : undefined);
  const amount = found ? Number(found.price) : NaN;
  return Number.isFinite(amount) ? { amount, currency: found?.currency ?? currencyOf(region) } : undefined;
}

const BACKEND: Record<Deployment['target'], string> = { 'sagemaker-realtime': 'sagemaker-stream', 'sagemaker-async': 'sagemaker-async', ecs: 'openai-chat', ec2: 'openai-chat' };

/** deploy-endpoint's benchmark: every deployed region measured, in turn, then the records written. */
export async function benchmarkAfterDeploy(target: Target, request: AfterDeployRequest, run: RunContext): Promise<AfterDeployResult[]> {
  const out: AfterDeployResult[] = [];
  for (const result of request.deployed) {
    if (run.signal?.aborted) break;
    if (!MEASURABLE.has(result.status)) {
      run.reporter.info(`Benchmark skipped in ${result.region}: the stack is ${result.status}, no endpoint to measure.`);
      continue;
    }
    out.push(await benchmarkRegion(target, result, request, run));
  }
  const dir = path.resolve(request.workspace, request.resultsDir);
  for (const m of out) {
    if (!m.resultRecord) continue;
    m.resultFile = writeResult(dir, m.resultRecord);
    run.reporter.info(`Benchmark result written to ${m.resultFile}.`);
  }
  return out;
}

async function benchmarkRegion(target: Target, result: RegionResult, options: AfterDeployRequest, run: RunContext): Promise<AfterDeployResult> {
  const d = target.deployment;
  const { reporter } = run;
  const endpoint = endpointFromOutputs(target, result.region, result.outputs, accountOf(result), result.endpointName);
  if (!endpoint.url && result.endpointUrl && (d.target === 'ecs' || d.target === 'ec2')) endpoint.url = result.endpointUrl;
  const workload = d.workload;
  const apiKey = await endpointApiKey(endpoint, reporter, options.credentials);
  const requestTimeoutMs = workload.maxDurationSeconds * 1000;
  const client = options.clientFor?.(endpoint, d, apiKey) ?? benchClientFor(endpoint, d, { credentials: options.credentials, apiKey, requestTimeoutMs });
  const bound = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = run.signal ? AbortSignal.any([run.signal, bound]) : bound;
  const prompts = workload.promptsFile ? filePrompts(workload.promptsFile, path.resolve(options.workspace)) : undefined;
  const measured = await runBenchmark({ client, workload, reporter, secrets: [apiKey], signal, prompts });
  await client.close?.();

  const pricedStep = bestStep(measured.steps, workload.objective);
  const hourly = instanceHourlyPrice(d, result.region, options.catalog);
  const price =
    hourly && pricedStep
      ? pricePerformance(pricedStep.metrics, hourly, { targetRequestsPerMinute: workload.targetRequestsPerMinute, objective: workload.objective, instances: d.instanceCount })
      : undefined;
  if (!hourly) reporter.info(`No catalogue price for ${d.instanceType} in ${result.region}: the benchmark has no price-performance.`);
  const json = benchmarkJson(measured, { price, pricedStep, backend: BACKEND[d.target], model: servedModelName(d) });
  const markdown = `#### ${d.name} in ${result.region}\n\n${renderMarkdown(measured, { price, pricedStep })}`;
  const commit = run.env.sha;
  let record: BenchmarkResultRecord | undefined;
  const imageHash = options.imageHash ?? (options.imageUri ? hashOfImageUri(options.imageUri) : imageHashOf(d, result.region, target.specDir));
  if (imageHash && commit && /^[0-9a-f]{40}$/.test(commit) && pricedStep) {
    record = resultRecord({ run: measured, imageHash, instanceType: d.instanceType, commit, region: result.region, price });
  } else {
    reporter.info('No result record: it needs the image content hash and the commit (GITHUB_SHA) to key it.');
  }
  return { region: result.region, endpoint: endpoint.url ?? endpoint.endpointName, json, markdown, resultRecord: record, price };
}

/** The account, from an ARN the stack returned (async buckets are checked to be the account's own). */
function accountOf(result: RegionResult): string | undefined {
  return arnAccount(result.endpointArn ?? result.stackId);
}
