/**
 * Results of measured configurations, kept where a pull-request job can read them without AWS
 * credentials (see docs/benchmark.md): one JSON file per configuration, named by its key. The key is a
 * sha256 over the canonical JSON of what determines the figures: the image's content hash, the
 * instance type and the workload. A changed image, instance type or workload has another key, so the
 * cost comment says "not measured" rather than showing figures of something else.
 *
 * Files are data from the repository (a fork's pull request can change them), so every field is
 * validated before use and only numbers and checked short strings reach the rendered comment.
 */
import { sha256Hex } from '../core/hash';
import * as fs from 'fs';
import * as path from 'path';
import { bestStep, PricePerformance } from './price-performance';
import type { BenchmarkRun } from './runner';
import type { Workload } from './workload';
import { compareText } from '../core/compare';

export const RESULT_SCHEMA_VERSION = 1;

export interface BenchmarkKeyInput {
  /**
   * Content hash of the serving image, one the PR job can compute offline: the content-addressed tag
   * renderBuild gives (`md-<40 hex>`, src/image/render.ts), or an image digest (`sha256:<64 hex>`).
   */
  imageHash: string;
  instanceType: string;
  workload: Workload;
}

/** JSON with object keys sorted at every level and no whitespace: the same value, the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => compareText(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The fields of a workload that change what is measured (the target load only sizes the count). */
function measuredWorkload(w: Workload): Record<string, unknown> {
  return {
    promptTokens: w.promptTokens,
    outputTokens: w.outputTokens,
    concurrency: w.concurrency,
    requestRate: w.requestRate,
    requests: w.requests,
    maxDurationSeconds: w.maxDurationSeconds,
    objective: w.objective,
    promptsFile: w.promptsFile,
    concurrencySteps: w.concurrencySteps,
  };
}

/** sha256 (hex) of the canonical JSON of the image hash, instance type and measured workload. */
export function benchmarkKey(input: BenchmarkKeyInput): string {
  const canonical = canonicalJson({ v: RESULT_SCHEMA_VERSION, imageHash: input.imageHash, instanceType: input.instanceType, workload: measuredWorkload(input.workload) });
  return sha256Hex(canonical);
}

/** The figures a result keeps: enough for the comment and the price, in vLLM's names. */
export interface ResultFigures {
  completed: number;
  failed: number;
  request_throughput: number;
  request_goodput: number | null;
  output_throughput: number;
  median_ttft_ms: number;
  p95_ttft_ms: number;
  median_tpot_ms: number;
  p95_e2el_ms: number;
  /** Concurrency of the level the figures are from (the best one when the run stepped). */
  max_concurrency: number | null;
}

export interface BenchmarkResultRecord {
  schema: typeof RESULT_SCHEMA_VERSION;
  key: string;
  imageHash: string;
  instanceType: string;
  workload: Workload;
  /** ISO time of the measurement. */
  measuredAt: string;
  /** The commit whose configuration was measured (40 hex). */
  commit: string;
  region: string;
  figures: ResultFigures;
  /** Price-performance as measured, when a price was known. */
  price?: { currency: 'USD' | 'CNY'; hourlyPrice: number; perMillionOutputTokens: number | null; perThousandRequests: number | null; instancesForTarget: number | null; monthlyCostForTarget: number | null };
}

export interface ResultProblem {
  file: string;
  problem: string;
}

export interface ResultSet {
  records: BenchmarkResultRecord[];
  /** Files skipped, with why (shown as a note, never fatal: a bad file must not block a PR's comment). */
  problems: ResultProblem[];
}

const MAX_FILES = 2000;
const MAX_FILE_BYTES = 256 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;
/** A tag or digest: letters, digits and `:._-` only (nothing that is markup in a comment). */
const IMAGE_HASH = /^[A-Za-z0-9][A-Za-z0-9:._-]{7,127}$/;
const INSTANCE_TYPE = /^(ml\.)?[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const COMMIT = /^[0-9a-f]{40}$/;

function isNum(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min;
}

/** Checks one parsed file; returns the problem, or undefined when it is a valid record. */
export function validateResult(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const r = value as Record<string, unknown>;
  if (r.schema !== RESULT_SCHEMA_VERSION) return `schema is ${JSON.stringify(r.schema)}, expected ${RESULT_SCHEMA_VERSION}`;
  if (typeof r.key !== 'string' || !HEX64.test(r.key)) return 'key is not 64 hex characters';
  if (typeof r.imageHash !== 'string' || !IMAGE_HASH.test(r.imageHash)) return 'imageHash is not an image tag or digest';
  if (typeof r.instanceType !== 'string' || !INSTANCE_TYPE.test(r.instanceType) || r.instanceType.length > 40) return 'instanceType is not an instance type';
  if (typeof r.region !== 'string' || !REGION.test(r.region)) return 'region is not a region name';
  if (typeof r.commit !== 'string' || !COMMIT.test(r.commit)) return 'commit is not a 40-character commit id';
  if (typeof r.measuredAt !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(r.measuredAt) || Number.isNaN(Date.parse(r.measuredAt))) return 'measuredAt is not an ISO time';
  const w = r.workload as Record<string, unknown> | undefined;
  if (!w || typeof w !== 'object' || !isNum(w.promptTokens, 1) || !isNum(w.outputTokens, 1) || !isNum(w.requests, 1)) return 'workload is incomplete';
  try {
    if (benchmarkKey({ imageHash: r.imageHash, instanceType: r.instanceType, workload: w as unknown as Workload }) !== r.key) return 'key does not match imageHash, instanceType and workload';
  } catch {
    return 'workload is not plain JSON';
  }
  const f = r.figures as Record<string, unknown> | undefined;
  if (!f || typeof f !== 'object') return 'figures are missing';
  for (const name of ['completed', 'failed', 'request_throughput', 'output_throughput', 'median_ttft_ms', 'p95_ttft_ms', 'median_tpot_ms', 'p95_e2el_ms']) {
    if (!isNum(f[name])) return `figures.${name} is not a non-negative number`;
  }
  if (f.request_goodput !== null && !isNum(f.request_goodput)) return 'figures.request_goodput is not a number or null';
  if (f.max_concurrency !== null && !isNum(f.max_concurrency, 1)) return 'figures.max_concurrency is not a number or null';
  if (r.price !== undefined) {
    const p = r.price as Record<string, unknown>;
    if (!p || typeof p !== 'object' || (p.currency !== 'USD' && p.currency !== 'CNY') || !isNum(p.hourlyPrice)) return 'price is malformed';
    for (const name of ['perMillionOutputTokens', 'perThousandRequests', 'instancesForTarget', 'monthlyCostForTarget']) {
      if (p[name] !== null && !isNum(p[name])) return `price.${name} is not a number or null`;
    }
  }
  return undefined;
}

/**
 * Reads every *.json file directly in `dir` (not below it, no symbolic links), at most 2000 files of
 * at most 256 KiB each. A missing directory is an empty set.
 */
export function readResults(dir: string): ResultSet {
  const set: ResultSet = { records: [], problems: [] };
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return set;
  }
  for (const name of names.slice(0, MAX_FILES)) {
    const file = path.join(dir, name);
    try {
      const st = fs.lstatSync(file);
      if (!st.isFile()) {
        set.problems.push({ file: name, problem: 'not a regular file' });
        continue;
      }
      if (st.size > MAX_FILE_BYTES) {
        set.problems.push({ file: name, problem: 'larger than 256 KiB' });
        continue;
      }
      const value = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
      const problem = validateResult(value);
      if (problem) set.problems.push({ file: name, problem });
      else set.records.push(value as BenchmarkResultRecord);
    } catch (err) {
      set.problems.push({ file: name, problem: err instanceof SyntaxError ? 'not valid JSON' : 'unreadable' });
    }
  }
  if (names.length > MAX_FILES) set.problems.push({ file: dir, problem: `more than ${MAX_FILES} files; the rest were not read` });
  return set;
}

/** The newest record for a key (a configuration may be measured again). */
export function lookupResult(results: ResultSet | readonly BenchmarkResultRecord[], key: string): BenchmarkResultRecord | undefined {
  const records = Array.isArray(results) ? results : (results as ResultSet).records;
  let best: BenchmarkResultRecord | undefined;
  for (const r of records) if (r.key === key && (!best || Date.parse(r.measuredAt) > Date.parse(best.measuredAt))) best = r;
  return best;
}

/** "measured 2026-11-20 at 0123abc" or "not measured": for the cost comment. */
export function describeMeasurement(record: BenchmarkResultRecord | undefined): string {
  if (!record) return 'not measured';
  return `measured ${record.measuredAt.slice(0, 10)} at ${record.commit.slice(0, 7)}`;
}

/** The file a record is stored as: `<key>.json`. */
export function resultFileName(record: Pick<BenchmarkResultRecord, 'key'>): string {
  return `${record.key}.json`;
}

/** Writes a record into `dir` (the checkout of the results branch, or an artifact directory). */
export function writeResult(dir: string, record: BenchmarkResultRecord): string {
  const problem = validateResult(record);
  if (problem) throw new Error(`benchmark result is invalid: ${problem}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, resultFileName(record));
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  return file;
}

export interface ResultRecordInput {
  run: BenchmarkRun;
  imageHash: string;
  instanceType: string;
  commit: string;
  region: string;
  price?: PricePerformance;
}

/** The record of a run: the figures of its best load level (see bestStep), keyed by its configuration. */
export function resultRecord(input: ResultRecordInput): BenchmarkResultRecord {
  const step = bestStep(input.run.steps, input.run.workload.objective);
  if (!step) throw new Error('the run has no load level to record');
  const m = step.metrics as unknown as Record<string, number>;
  const record: BenchmarkResultRecord = {
    schema: RESULT_SCHEMA_VERSION,
    key: benchmarkKey({ imageHash: input.imageHash, instanceType: input.instanceType, workload: input.run.workload }),
    imageHash: input.imageHash,
    instanceType: input.instanceType,
    workload: input.run.workload,
    measuredAt: input.run.startedAt,
    commit: input.commit,
    region: input.region,
    figures: {
      completed: step.metrics.completed,
      failed: step.metrics.failed,
      request_throughput: step.metrics.request_throughput,
      request_goodput: step.metrics.request_goodput,
      output_throughput: step.metrics.output_throughput,
      median_ttft_ms: step.metrics.median_ttft_ms,
      p95_ttft_ms: m.p95_ttft_ms ?? 0,
      median_tpot_ms: step.metrics.median_tpot_ms,
      p95_e2el_ms: m.p95_e2el_ms ?? 0,
      max_concurrency: step.concurrency ?? null,
    },
  };
  if (input.price) {
    const p = input.price;
    record.price = {
      currency: p.currency,
      hourlyPrice: p.hourlyPrice,
      perMillionOutputTokens: p.perMillionOutputTokens,
      perThousandRequests: p.perThousandRequests,
      instancesForTarget: p.instancesForTarget,
      monthlyCostForTarget: p.monthlyCostForTarget,
    };
  }
  return record;
}
