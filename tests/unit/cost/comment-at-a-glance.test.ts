/**
 * Issue 24 items 3-6: the PR comment readable at a glance and right under trimming. Each test failed
 * on the code before its fix.
 */
import { Catalog } from '../../../src/prices/catalog';
import catalogJson from '../../../src/prices/catalog/prices.json';
import { PriceBook, estimateDeployments } from '../../../src/cost/estimate';
import { formatMoney } from '../../../src/cost/money';
import { buildReport, checkBudget, parseBudget, reportJson } from '../../../src/cost/report';
import { GITHUB_COMMENT_LIMIT, renderReport } from '../../../src/cost/render';
import { SIX_REGIONS, manyDeployments, sagemaker, specOf } from './fixtures';

/** Six regions that offer g6 and p5 (validation refuses a type where its sources say it is not offered). */
const G6_P5_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-2', 'ap-northeast-1', 'ap-southeast-2'];

function report(headYaml: string, baseYaml?: string, book = new PriceBook()) {
  const head = specOf(headYaml);
  const h = estimateDeployments(Object.values(head.deployments), { prices: book, spec: head });
  // '' is a base without the spec: every deployment new.
  const base = baseYaml ? specOf(baseYaml) : undefined;
  const b = base ? estimateDeployments(Object.values(base.deployments), { prices: book, spec: base }) : baseYaml === '' ? { hoursPerMonth: 730, deployments: [] } : undefined;
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
    const r = report(manyDeployments(150, G6_P5_REGIONS, types) + asyncOne, manyDeployments(150, G6_P5_REGIONS, types, 1), book);
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

describe('24.5 the chart', () => {
  const chartOf = (body: string) => /```mermaid\n([\s\S]*?)```/.exec(body)?.[1];
  const series = (chart: string, kind: string) => [...chart.matchAll(new RegExp(`^\\s*${kind} \\[(.*)\\]$`, 'gm'))].map((m) => m[1]!.split(', ').map(Number));

  it('starts the value axis at 0 and puts base and head side by side per deployment', () => {
    const base = sagemaker('alpha', 'ml.g5.2xlarge') + sagemaker('bravo', 'ml.g4dn.xlarge') + sagemaker('charlie', 'ml.g5.xlarge');
    const head = sagemaker('alpha', 'ml.g5.xlarge') + sagemaker('bravo', 'ml.g4dn.2xlarge') + sagemaker('charlie', 'ml.g5.xlarge');
    const chart = chartOf(renderReport(report(head, base)));
    expect(chart).toBeDefined();
    const axis = /y-axis "USD per month" (\d+(?:\.\d+)?) --> (\d+(?:\.\d+)?)/.exec(chart!);
    expect(axis?.[1]).toBe('0');
    // No line drawn across unrelated deployments: per deployment a base bar, then this PR's, side by side.
    expect(chart).not.toMatch(/^\s*line /m);
    const bars = series(chart!, 'bar');
    expect(bars).toHaveLength(1);
    const r = report(head, base);
    const of = (name: string) => r.changes.find((c) => c.name === name)!;
    expect(bars[0]).toEqual([of('bravo').pastMonthly.high, of('bravo').monthly.high, of('alpha').pastMonthly.high, of('alpha').monthly.high].map((v) => Math.round(v * 100) / 100));
    // The biggest mover first; the unchanged deployment (charlie) is not among them; every bar fits under the axis maximum.
    expect(chart).toMatch(/x-axis \["bravo · base", "bravo · this PR", "alpha · base", "alpha · this PR"\]/);
    expect(Math.max(...bars[0]!)).toBeLessThanOrEqual(Number(axis?.[2]));
  });

  it('shows only the top movers and says how many more', () => {
    const types = ['ml.g5.xlarge', 'ml.g5.2xlarge', 'ml.g4dn.xlarge', 'ml.g6.2xlarge'];
    const body = renderReport(report(manyDeployments(40, ['us-east-1'], types), manyDeployments(40, ['us-east-1'], types, 1)));
    const chart = chartOf(body)!;
    const labels = /x-axis \[(.*)\]/.exec(chart)![1]!.split('", "');
    expect(labels.length).toBeLessThanOrEqual(12);
    expect(body).toMatch(/and \d+ more/);
  });

  it('draws no chart where it adds nothing: one deployment, nothing changed, or one that moved', () => {
    expect(renderReport(report(sagemaker('alpha', 'ml.g5.xlarge'), sagemaker('alpha', 'ml.g5.2xlarge')))).not.toContain('```mermaid');
    const same = sagemaker('alpha', 'ml.g5.xlarge') + sagemaker('bravo', 'ml.g4dn.xlarge');
    expect(renderReport(report(same, same))).not.toContain('```mermaid');
    // One mover: "What changed" already says base → new for it.
    expect(renderReport(report(same, sagemaker('alpha', 'ml.g5.2xlarge') + sagemaker('bravo', 'ml.g4dn.xlarge')))).not.toContain('```mermaid');
  });
});

describe('24.6 what a reviewer trips on', () => {
  it('keeps cents on a one-time cost under $10', () => {
    // 10 build-minutes of general1.large at 0.02 USD: $0.20, not "$0".
    const body = renderReport(report(sagemaker('chat', 'ml.g5.xlarge', '    build: { estimatedMinutes: 10 }\n'), ''));
    expect(rowOf(body, 'chat')).toMatch(/\| \$0\.20 \|$/);
    expect(body.split('\n').find((l) => l.startsWith('| **Total'))).toMatch(/\| \$0\.20 \|$/);
  });

  it('says a range percentage at both ends, and the guardrail speaks of the maximum it checks', () => {
    // 1–3 instances → 2–3: the minimum rises 100 %, the maximum 0 %.
    const r = report(sagemaker('chat', 'ml.g5.xlarge', '    instanceCount: 2\n    autoscaling: { min: 2, max: 3 }\n'), sagemaker('chat', 'ml.g5.xlarge', '    autoscaling: { min: 1, max: 3 }\n'));
    const body = renderReport(r);
    expect(rowOf(body, 'chat')).toMatch(/\| \+\d+\.\d% – 0\.0% \|/);
    expect(body).toMatch(/\(\+\d+\.\d% at the minimum, 0\.0% at the maximum\)/);
    const grow = report(sagemaker('chat', 'ml.g5.xlarge', '    autoscaling: { min: 1, max: 4 }\n'), sagemaker('chat', 'ml.g5.xlarge', '    autoscaling: { min: 1, max: 3 }\n'));
    const [v] = checkBudget(grow, parseBudget(undefined, '10%'), formatMoney);
    // The figure the guardrail names is the table's maximum-end percentage.
    const pct = /increases by (\d+\.\d)%/.exec(v!.message)?.[1];
    expect(rowOf(renderReport(grow), 'chat')).toContain(`+${pct}%`);
    expect(v!.message).toMatch(/at the maximum/);
  });

  it('words an increase from nothing', () => {
    const r = report(sagemaker('chat', 'ml.g5.xlarge'), '');
    const [v] = checkBudget(r, parseBudget(undefined, '10%'), formatMoney);
    expect(v!.message).not.toMatch(/increases by from nothing/);
    expect(v!.message).toMatch(/rises from nothing to \$[\d,.]+ a month/);
  });

  it('shows an unchanged usage-based deployment alike on both sides', () => {
    const queue = sagemaker('queue', 'ml.g5.xlarge').replace('sagemaker-realtime', 'sagemaker-async');
    const body = renderReport(report(queue + sagemaker('chat', 'ml.g5.xlarge'), queue + sagemaker('chat', 'ml.g5.2xlarge')));
    const cells = rowOf(body, 'queue').split(' | ');
    expect(cells[3]).toBe(cells[4]);
    expect(cells[4]).toMatch(/\+ usage/);
  });

  it('keeps "Runs on" to one break at most', () => {
    const body = renderReport(report(manyDeployments(2, SIX_REGIONS, ['ml.g5.xlarge'])));
    const runsOn = rowOf(body, 'model-0').split(' | ')[1]!;
    expect(runsOn.split(' ').length).toBeLessThanOrEqual(2);
    expect(runsOn).toMatch(/ml\.g5\.xlarge/);
    expect(runsOn).toMatch(/6\u00a0regions|us-east-1\u00a0\+5/);
  });

  it('cites no file users do not have', () => {
    const queue = sagemaker('queue', 'ml.g5.xlarge').replace('sagemaker-realtime', 'sagemaker-async');
    const r = report(queue + sagemaker('big', 'ml.p4d.24xlarge'));
    expect(renderReport(r)).not.toMatch(/prices\.md/);
    expect(JSON.stringify(reportJson(r))).not.toMatch(/prices\.md/);
  });
});
