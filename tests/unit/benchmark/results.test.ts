/** Stored results: a stable key, schema validation of files a fork could edit, lookup and the comment's words. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { calculateMetrics } from '../../../src/benchmark/metrics';
import { pricePerformance } from '../../../src/benchmark/price-performance';
import { benchmarkKey, canonicalJson, describeMeasurement, lookupResult, readResults, resultRecord, validateResult, writeResult } from '../../../src/benchmark/results';
import type { BenchmarkRun } from '../../../src/benchmark/runner';
import { resolveWorkload } from '../../../src/benchmark/workload';

const IMAGE = `sha256:${'ab'.repeat(32)}`;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const workload = resolveWorkload({ concurrency: 8, requests: 64, promptTokens: 512, outputTokens: 128 });

function run(at = '2026-11-20T10:00:00.000Z'): BenchmarkRun {
  const outcomes = Array.from({ length: 4 }, (_, i) => ({ success: true, promptLen: 512, outputTokens: 128, ttftMs: 300 + i, itlMs: [20], latencyMs: 3000, startMs: i * 10 }));
  return { target: 'sagemaker-realtime chat', workload, startedAt: at, steps: [{ concurrency: 8, metrics: calculateMetrics(outcomes, 2, { objective: workload.objective }), stoppedBy: 'requests', errors: [], clientLagP99Ms: 0, warnings: [] }] };
}

describe('benchmarkKey', () => {
  it('is a sha256 of the canonical JSON: field order does not matter, every input does', () => {
    const key = benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', workload });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const reordered = Object.fromEntries(Object.entries(workload).reverse()) as typeof workload;
    expect(benchmarkKey({ instanceType: 'ml.g5.2xlarge', workload: reordered, imageHash: IMAGE })).toBe(key);
    expect(benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g6.2xlarge', workload })).not.toBe(key);
    expect(benchmarkKey({ imageHash: `sha256:${'cd'.repeat(32)}`, instanceType: 'ml.g5.2xlarge', workload })).not.toBe(key);
    expect(benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', workload: { ...workload, outputTokens: 256 } })).not.toBe(key);
    // The target load sizes the instance count; it does not change what is measured.
    expect(benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', workload: { ...workload, targetRequestsPerMinute: 999 } })).toBe(key);
  });
  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
    expect(() => canonicalJson({ a: NaN })).toThrow();
  });
});

describe('result files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-results-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const record = (at?: string) => {
    const r = run(at);
    return resultRecord({ run: r, imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', commit: COMMIT, region: 'us-east-1', price: pricePerformance(r.steps[0].metrics, { amount: 1.515, currency: 'USD' }, { targetRequestsPerMinute: 60, objective: workload.objective }) });
  };

  it('writes, reads back, and looks up the newest by key', () => {
    const older = record('2026-11-01T00:00:00.000Z');
    const newer = record('2026-11-20T10:00:00.000Z');
    fs.mkdirSync(path.join(dir, 'old'));
    writeResult(path.join(dir, 'old'), older);
    const file = writeResult(dir, newer);
    expect(path.basename(file)).toBe(`${newer.key}.json`);
    fs.writeFileSync(path.join(dir, 'older-copy.json'), JSON.stringify(older));
    const set = readResults(dir);
    expect(set.problems).toEqual([]);
    expect(set.records).toHaveLength(2);
    const found = lookupResult(set, benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g5.2xlarge', workload }));
    expect(found?.measuredAt).toBe('2026-11-20T10:00:00.000Z');
    expect(describeMeasurement(found)).toBe('measured 2026-11-20 at 0123456');
    expect(found?.price?.perMillionOutputTokens).toBeGreaterThan(0);
    expect(lookupResult(set, benchmarkKey({ imageHash: IMAGE, instanceType: 'ml.g6.xlarge', workload }))).toBeUndefined();
    expect(describeMeasurement(undefined)).toBe('not measured');
  });

  it('skips invalid files with the reason, never failing', () => {
    const good = record();
    const bad = (name: string, value: unknown) => fs.writeFileSync(path.join(dir, name), typeof value === 'string' ? value : JSON.stringify(value));
    bad('a-not-json.json', '{nope');
    bad('b-tampered-figure.json', { ...good, figures: { ...good.figures, output_throughput: -1 } });
    bad('c-wrong-key.json', { ...good, instanceType: 'ml.p5.48xlarge' });
    bad('d-markup.json', { ...good, instanceType: 'ml.g5.2xlarge<img src=x>' });
    bad('e-commit.json', { ...good, commit: 'main' });
    bad('f-big.json', `{"pad":"${'x'.repeat(300 * 1024)}"}`);
    bad('g-schema.json', { ...good, schema: 2 });
    bad('h-price.json', { ...good, price: { ...good.price, currency: 'EUR' } });
    fs.symlinkSync('/etc/hostname', path.join(dir, 'i-link.json'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const set = readResults(dir);
    expect(set.records).toEqual([]);
    expect(set.problems).toEqual([
      { file: 'a-not-json.json', problem: 'not valid JSON' },
      { file: 'b-tampered-figure.json', problem: 'figures.output_throughput is not a non-negative number' },
      { file: 'c-wrong-key.json', problem: 'key does not match imageHash, instanceType and workload' },
      { file: 'd-markup.json', problem: 'instanceType is not an instance type' },
      { file: 'e-commit.json', problem: 'commit is not a 40-character commit id' },
      { file: 'f-big.json', problem: 'larger than 256 KiB' },
      { file: 'g-schema.json', problem: 'schema is 2, expected 1' },
      { file: 'h-price.json', problem: 'price is malformed' },
      { file: 'i-link.json', problem: 'not a regular file' },
    ]);
  });

  it('accepts a content-addressed tag as the image hash, and nothing with markup', () => {
    const r = record();
    const tagged = { ...r, imageHash: `md-${'0f'.repeat(20)}` };
    tagged.key = benchmarkKey({ imageHash: tagged.imageHash, instanceType: r.instanceType, workload: r.workload });
    expect(validateResult(tagged)).toBeUndefined();
    const marked = { ...r, imageHash: 'md-<script>' };
    marked.key = benchmarkKey({ imageHash: marked.imageHash, instanceType: r.instanceType, workload: r.workload });
    expect(validateResult(marked)).toBe('imageHash is not an image tag or digest');
  });

  it('a missing directory is an empty set; writing an invalid record throws', () => {
    expect(readResults(path.join(dir, 'nope'))).toEqual({ records: [], problems: [] });
    expect(() => writeResult(dir, { ...record(), region: 'mars' })).toThrow('region is not a region name');
    expect(validateResult(record())).toBeUndefined();
  });
});
