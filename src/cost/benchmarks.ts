/**
 * Measured price-performance for the PR cost comment: for each deployment of the head, the result of
 * a benchmark of the same configuration (image content hash, instance type, workload), read from a
 * directory of the repository (default .model-deploy/benchmarks/) that the deploy's benchmark step
 * fills. No AWS credentials and no token needed; every file is validated (src/benchmark/results.ts),
 * and only numbers and patterned strings reach the comment. On a pull request the directory is read
 * at the BASE commit (git ls-tree / git show, as the base spec is read): the PR's own files, which a
 * fork controls, can never make its configuration look measured.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Reporter } from '../core/log';
import type { Deployment } from '../config/types';
import { imageHashOf } from '../benchmark/image-hash';
import { benchmarkKey, BenchmarkResultRecord, lookupResult, readResults, ResultSet } from '../benchmark/results';
import type { Currency } from '../prices/catalog';
import type { ChangeBenchmark, CostReport } from './report';
import { git } from '../core/git';
import { mapLimit } from '../core/concurrency';

export const DEFAULT_BENCHMARK_RESULTS = '.model-deploy/benchmarks/';

/**
 * The newest record of this deployment's head configuration measured in one of `regions` (images are
 * built per region; one image measured in a China region is priced in CNY, not for a USD part).
 */
export function measurementOf(d: Deployment, regions: readonly string[], specDir: string, results: ResultSet): BenchmarkResultRecord | undefined {
  let best: BenchmarkResultRecord | undefined;
  for (const region of regions) {
    const imageHash = imageHashOf(d, region, specDir);
    if (!imageHash) continue;
    const measuredHere = results.records.filter((r) => r.region === region);
    const found = lookupResult(measuredHere, benchmarkKey({ imageHash, instanceType: d.instanceType, workload: d.workload }));
    if (found && (!best || Date.parse(found.measuredAt) > Date.parse(best.measuredAt))) best = found;
  }
  return best;
}

function toChange(record: BenchmarkResultRecord | undefined, currency: Currency): ChangeBenchmark {
  if (!record) return { measured: false };
  // A figure in another currency than the part's (measured in a China region, shown for a USD part) is not shown as one.
  const perMillion = record.price?.currency === currency ? record.price.perMillionOutputTokens : null;
  return { measured: true, perMillionOutputTokens: perMillion, currency, date: record.measuredAt.slice(0, 10), commit: record.commit.slice(0, 7) };
}

/**
 * Adds the measurements to the report's head parts (report.benchmarks = true shows the column). A
 * missing directory adds nothing: a repository that does not benchmark gets no column of "not measured".
 */
export function attachBenchmarks(report: CostReport, head: readonly Deployment[], options: { dir: string; specDir: string; reporter: Reporter }): void {
  const results = readResults(options.dir);
  for (const p of results.problems) options.reporter.info(`Benchmark result ${path.join(options.dir, p.file)} skipped: ${p.problem}.`);
  if (results.records.length === 0 && results.problems.length === 0 && !exists(options.dir)) return;
  addMeasurements(report, head, results, options.specDir);
}

function addMeasurements(report: CostReport, head: readonly Deployment[], results: ResultSet, specDir: string): void {
  report.benchmarks = true;
  for (const change of report.changes) {
    const d = head.find((x) => x.name === change.name);
    if (!d || !change.next) continue;
    change.benchmark = toChange(measurementOf(d, change.next.regions, specDir, results), change.currency);
  }
}

function exists(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const MAX_FILES = 2000;
const MAX_BYTES = 256 * 1024;

/** A directory at the base commit: its regular files (name, size, an id to read it by), undefined when it cannot be listed. */
export interface BaseTree {
  list(dir: string): Promise<{ name: string; size: number; id: string }[] | undefined>;
  read(id: string): Promise<string | undefined>;
}

/** The base commit through git (ls-tree mode 100644: no links, no subfolders; cat-file by blob). */
export function gitTree(workspace: string, ref: string): BaseTree {
  return {
    async list(dir) {
      const listed = await git(workspace, ['ls-tree', '-z', '-l', ref, '--', `${dir}/`]);
      if (!listed.ok) return undefined;
      return listed.stdout.split('\0').flatMap((entry) => {
        const [, id, size, file] = /^100644 blob ([0-9a-f]+)\s+(\d+)\t(.+)$/.exec(entry) ?? [];
        return id && file ? [{ name: path.posix.basename(file), size: Number(size), id }] : [];
      });
    },
    async read(id) {
      const shown = await git(workspace, ['cat-file', 'blob', id]);
      return shown.ok ? shown.stdout : undefined;
    },
  };
}

/**
 * The results directory as the base commit holds it: regular *.json files directly in it, at most
 * 2000 of at most 256 KiB, copied to a temporary folder and read there by readResults (the same
 * validation). Through git by default (the base commit is in the clone once the base spec was read
 * with git), or `tree` (GitHub's contents API, src/cost/base.ts). Undefined when it cannot be listed.
 */
export async function readBaseResults(workspace: string, ref: string, dir: string, tree: BaseTree = gitTree(workspace, ref)): Promise<ResultSet | undefined> {
  const rel = path.relative(workspace, path.resolve(workspace, dir)).split(path.sep).join('/');
  if (rel.startsWith('..')) return undefined;
  const listed = await tree.list(rel);
  if (!listed) return undefined;
  const files = listed.filter((f) => f.size <= MAX_BYTES && f.name.endsWith('.json')).slice(0, MAX_FILES);
  // Nothing to read (no results folder at the base, the usual case): what readResults says of an empty folder, without making one.
  if (files.length === 0) return { records: [], problems: [] };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'md-bench-results-'));
  try {
    const texts = await mapLimit(files, 8, (f) => tree.read(f.id));
    files.forEach((f, i) => {
      const text = texts[i];
      if (text !== undefined) fs.writeFileSync(path.join(tmp, path.basename(f.name)), text);
    });
    return readResults(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** On a pull request: the measurements from the base commit's results directory (see readBaseResults). */
export async function attachBaseBenchmarks(
  report: CostReport,
  head: readonly Deployment[],
  options: { workspace: string; ref: string; dir: string; specDir: string; reporter: Reporter; results?: Promise<ResultSet | undefined> },
): Promise<void> {
  // Started early by the caller, the listing runs while the estimate is priced.
  const results = await (options.results ?? readBaseResults(options.workspace, options.ref, options.dir));
  if (!results) {
    options.reporter.info(`Benchmark results not read: ${options.dir} could not be listed at the base ${options.ref.slice(0, 12)}.`);
    return;
  }
  for (const p of results.problems) options.reporter.info(`Benchmark result ${p.file} (base ${options.ref.slice(0, 12)}) skipped: ${p.problem}.`);
  if (results.records.length === 0 && results.problems.length === 0) return;
  addMeasurements(report, head, results, options.specDir);
}
