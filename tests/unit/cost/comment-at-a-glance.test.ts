/**
 * Issue 24 items 3-6: the PR comment readable at a glance and right under trimming. Each test failed
 * on the code before its fix.
 */
import { Catalog } from '../../../src/prices/catalog';
import catalogJson from '../../../src/prices/catalog/prices.json';
import { PriceBook, estimateDeployments } from '../../../src/cost/estimate';
import { buildReport } from '../../../src/cost/report';
import { GITHUB_COMMENT_LIMIT, renderReport } from '../../../src/cost/render';
import { SIX_REGIONS, manyDeployments, sagemaker, specOf } from './fixtures';

function report(headYaml: string, baseYaml?: string, book = new PriceBook()) {
  const head = specOf(headYaml);
  const h = estimateDeployments(Object.values(head.deployments), { prices: book, spec: head });
  const base = baseYaml === undefined ? undefined : specOf(baseYaml);
  const b = base ? estimateDeployments(Object.values(base.deployments), { prices: book, spec: base }) : undefined;
  return buildReport({ project: 'test', head: h, base: b, prices: book.usedPrices() });
}

/** The summary-table row of one deployment. */
const rowOf = (body: string, name: string) => body.split('\n').find((l) => l.startsWith(`| ${name} |`)) ?? '';

describe('24.3 stale and derived prices', () => {
  it('prices ml.p4d.24xlarge after the 2025-06 cut (EC2 x 1.15, DERIVED), not the 2024-12 list price 37.688', () => {
    const p = new PriceBook().instanceType('sagemaker-hosting', 'ml.p4d.24xlarge', 'us-east-1');
    expect(p).toMatchObject({ price: '25.2512883', origin: 'derived' });
    expect(p?.note).toMatch(/37\.688.*2025-06-05/);
  });

  it('labels the row that uses a DERIVED price in the comment', () => {
    const body = renderReport(report(sagemaker('big', 'ml.p4d.24xlarge') + sagemaker('small', 'ml.g5.xlarge')));
    expect(rowOf(body, 'big')).toMatch(/DERIVED/);
    expect(rowOf(body, 'small')).not.toMatch(/DERIVED|stale/);
  });

  it('labels a price older than a cut as stale in its row when nothing newer exists', () => {
    const doc = JSON.parse(JSON.stringify(catalogJson)) as { tables: { service: string; region: string; prices: Record<string, unknown> }[] };
    for (const t of doc.tables) if (t.service === 'ec2') delete t.prices['p4d.24xlarge'];
    const book = new PriceBook(new Catalog(doc as never));
    expect(book.instanceType('sagemaker-hosting', 'ml.p4d.24xlarge', 'us-east-1')).toMatchObject({ price: '37.688', stale: '2025-06-05' });
    const body = renderReport(report(sagemaker('big', 'ml.p4d.24xlarge'), undefined, book));
    expect(rowOf(body, 'big')).toMatch(/stale price/);
  });
});

describe('24.4 trimmed to fit, the labels stay', () => {
  it('150 deployments x 6 regions: the comment fits and still says DERIVED, stale and + usage where the job summary does', () => {
    const types = ['ml.g5.xlarge', 'ml.g6.xlarge', 'ml.g4dn.2xlarge', 'ml.p5.48xlarge'];
    const doc = JSON.parse(JSON.stringify(catalogJson)) as { tables: { service: string; region: string; prices: Record<string, unknown> }[] };
    // No EC2 p5.48xlarge anywhere: its SageMaker price is the stale 2024-12 one.
    for (const t of doc.tables) if (t.service === 'ec2') delete t.prices['p5.48xlarge'];
    const book = new PriceBook(new Catalog(doc as never));
    const asyncOne = sagemaker('queue', 'ml.g5.xlarge').replace('sagemaker-realtime', 'sagemaker-async');
    const r = report(manyDeployments(150, SIX_REGIONS, types) + asyncOne, manyDeployments(150, SIX_REGIONS, types, 1), book);
    const summary = renderReport(r, { limit: 1_000_000 });
    const body = renderReport(r);
    expect(summary.length).toBeGreaterThan(GITHUB_COMMENT_LIMIT);
    expect(body.length + 0).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    for (const label of ['DERIVED', 'stale price', '+ usage']) {
      expect(summary).toContain(label);
      expect(body).toContain(label);
    }
    // The total row itself carries them, and the rows left out say how many of them carry each.
    const total = body.split('\n').find((l) => l.startsWith('| **Total (USD)**')) ?? '';
    expect(total).toMatch(/\+ usage.*DERIVED, stale price/);
    // Where rows themselves must go, the line that stands for them says how many carry each label.
    const short = renderReport(r, { limit: 20_000 });
    expect(short.length).toBeLessThanOrEqual(20_000);
    expect(short).toMatch(/\| … \d+ more deployment\(s\) not shown .*DERIVED: \d+, stale price: \d+\)/);
  });
});
