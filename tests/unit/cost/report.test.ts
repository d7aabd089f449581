import { estimateDeployments, PriceBook } from '../../../src/cost/estimate';
import { formatMoney, formatPercent, roundTo } from '../../../src/cost/money';
import { buildReport, checkBudget, isUnchanged, parseBudget, reportJson } from '../../../src/cost/report';
import { commentMarker, GITHUB_COMMENT_LIMIT, renderReport } from '../../../src/cost/render';
import { ecs, sagemaker, specOf } from './fixtures';

function report(headYaml: string, baseYaml?: string) {
  const head = specOf(headYaml);
  const book = new PriceBook();
  const h = estimateDeployments(Object.values(head.deployments), { prices: book, spec: head });
  const base = baseYaml ? specOf(baseYaml) : undefined;
  const b = base ? estimateDeployments(Object.values(base.deployments), { prices: book, spec: base }) : baseYaml === '' ? { hoursPerMonth: 730, deployments: [] } : undefined;
  return buildReport({ project: 'test', head: h, base: b, prices: book.usedPrices() });
}

describe('buildReport', () => {
  it('computes the diff and the percent against the base', () => {
    // g4dn.xlarge 537.572 → g4dn.2xlarge 0.94 × 730 = 686.2 (only the instance line changes price).
    const r = report(sagemaker('chat', 'ml.g4dn.2xlarge'), sagemaker('chat', 'ml.g4dn.xlarge'));
    const c = r.changes[0];
    expect(c.status).toBe('changed');
    expect(roundTo(c.diff.low, 2)).toBe(148.63);
    const expected = roundTo(((c.monthly.low - c.pastMonthly.low) / c.pastMonthly.low) * 100, 1);
    expect(c.percent).toBe(expected);
    expect(formatPercent(c.percent)).toMatch(/^\+2\d\.\d%$/);
    expect(r.totals[0].currency).toBe('USD');
  });

  it('treats a deployment missing on the base as new and a removed one as going to 0', () => {
    const r = report(sagemaker('fresh', 'ml.g4dn.xlarge'), sagemaker('old', 'ml.g4dn.xlarge'));
    const fresh = r.changes.find((c) => c.name === 'fresh')!;
    const old = r.changes.find((c) => c.name === 'old')!;
    expect(fresh.status).toBe('added');
    expect(fresh.percent).toBeUndefined();
    expect(old.status).toBe('removed');
    expect(old.monthly).toEqual({ low: 0, high: 0 });
    expect(roundTo(old.diff.low, 2)).toBe(-roundTo(old.pastMonthly.low, 2));
    expect(roundTo(r.totals[0].diff.low, 2)).toBe(0);
  });

  it('says unchanged when head and base price the same', () => {
    const r = report(sagemaker('chat', 'ml.g4dn.xlarge'), sagemaker('chat', 'ml.g4dn.xlarge'));
    expect(isUnchanged(r)).toBe(true);
    expect(renderReport(r)).toMatch(/unchanged/);
  });

  it('keeps USD and CNY totals apart', () => {
    const r = report(ecs('us', 'g5.xlarge') + ecs('cn', 'g5.xlarge', 'cn-north-1'));
    expect(r.totals.map((t) => t.currency)).toEqual(['USD', 'CNY']);
    const json = reportJson(r);
    expect(json.totalMonthlyCost).toBeNull();
    expect(json.totalsByCurrency.map((t) => t.currency)).toEqual(['USD', 'CNY']);
    expect(renderReport(r)).toMatch(/Total \(CNY\)/);
  });
});

describe('money', () => {
  it('rounds to cents half-up and shows thousands separators', () => {
    expect(formatMoney(1234567.005, 'USD')).toBe('$1,234,567.01');
    expect(formatMoney(-12.5, 'USD')).toBe('-$12.50');
    expect(formatMoney(0.7364 * 730, 'USD')).toBe('$537.57');
    // Float noise of a zero difference (exponent form in toPrecision) is $0.00, never $NaN.
    expect(formatMoney(157574.16 - 157574.15999999997, 'USD')).toBe('$0.00');
    expect(formatMoney(-2.9103830456733704e-11, 'USD', 0)).toBe('$0');
  });
});

describe('budget', () => {
  it('parses amounts and percents and rejects anything else', () => {
    expect(parseBudget('1000', '10%')).toEqual({ scope: 'total', maxMonthlyCost: 1000, maxIncrease: { percent: 10 } });
    expect(parseBudget('1,250.50', '100', 'deployment')).toEqual({ scope: 'deployment', maxMonthlyCost: 1250.5, maxIncrease: { amount: 100 } });
    expect(() => parseBudget('lots', undefined)).toThrow(/max-monthly-cost.*"lots"/);
    expect(() => parseBudget(undefined, '-5')).toThrow(/max-monthly-increase.*amount \(100\) or a percent/);
  });

  it('names the deployment and the figures when over a per-deployment budget (asked for)', () => {
    const r = report(sagemaker('chat', 'ml.g4dn.2xlarge'), sagemaker('chat', 'ml.g4dn.xlarge'));
    const v = checkBudget(r, parseBudget('500', '10%', 'deployment'), formatMoney);
    expect(v.map((x) => x.deployment)).toEqual(['chat', 'chat']);
    expect(v[0].message).toMatch(/^chat costs up to \$6\d\d\.\d\d a month, above max-monthly-cost \$500\.00$/);
    expect(v[1].message).toMatch(/chat increases by 2\d\.\d% a month at the maximum \(\$5\d\d\.\d\d → \$6\d\d\.\d\d\), above max-monthly-increase 10%/);
    expect(checkBudget(r, parseBudget('5000', '200'), formatMoney)).toEqual([]);
  });
});

describe('JSON result', () => {
  it('has infracost-like totals and cost components with decimals as strings', () => {
    const r = report(sagemaker('chat', 'ml.g4dn.xlarge'), '');
    const json = reportJson(r);
    expect(json.currency).toBe('USD');
    expect(json.pastTotalMonthlyCost).toBe('0');
    expect(typeof json.totalMonthlyCost).toBe('string');
    expect(json.diffTotalMonthlyCost).toBe(json.totalMonthlyCost);
    const c = json.projects[0].breakdown.resources[0].costComponents[0];
    expect(c).toMatchObject({ unit: 'hours', monthlyQuantity: '730', hourlyQuantity: '1', price: '0.7364', monthlyCost: '537.572', hourlyCost: '0.7364' });
    expect(c.priceSource).toMatchObject({ origin: 'catalog', source: 'S1', asOf: '2024-12-01' });
  });
});

describe('renderReport', () => {
  it('has the marker, the table and the assumptions (one deployment: no chart, the table says it all)', () => {
    const r = report(sagemaker('chat', 'ml.g4dn.xlarge'), sagemaker('chat', 'ml.g4dn.xlarge', '    instanceCount: 2\n'));
    const body = renderReport(r, { marker: commentMarker('model-deploy.yml') });
    expect(body.startsWith('<!-- model-deploy:estimate-cost config=model-deploy.yml -->')).toBe(true);
    expect(body).toMatch(/decrease by \$537\.57/);
    expect(body).not.toContain('```mermaid');
    expect(body).toMatch(/730 hours a month/);
    expect(body).toMatch(/\| \*\*Total \(USD\)\*\* \|/);
    expect(body).toMatch(/S1: aws-samples\/foundation-model-benchmarking-tool/);
  });

  it('stays under the limit by dropping details, never the totals', () => {
    const many = Array.from({ length: 60 }, (_, i) => sagemaker(`chat-${i}`, 'ml.g4dn.xlarge')).join('');
    const r = report(many, '');
    const full = renderReport(r, { limit: 1_000_000 });
    const limit = 5000;
    expect(full.length).toBeGreaterThan(limit);
    const cut = renderReport(r, { limit });
    expect(cut.length).toBeLessThanOrEqual(limit);
    expect(cut).toMatch(/Details omitted/);
    expect(cut).toMatch(/more deployment\(s\) not shown/);
    expect(cut).toContain(`**${formatMoney(r.totals[0].next.low, 'USD')}**`);
    expect(renderReport(r).length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
  });
});
