/**
 * Every spec docs/cost.md shows is one validation accepts (issue 21 item 7): the fenced YAML specs are
 * parsed by the product's loader, and an inline `regions: [...]` never mixes China with other regions.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseSpec } from '../../../src/config/load';
import { chinaSplit } from '../../../src/config/partitions';
import { PriceBook, estimateDeployments } from '../../../src/cost/estimate';

const DOC = path.resolve(__dirname, '../../../docs/cost.md');
const text = fs.readFileSync(DOC, 'utf8');

/** Fenced ```yaml blocks that are specs (they have deployments), with the line each starts on. */
function specBlocks(): { line: number; yaml: string }[] {
  const out: { line: number; yaml: string }[] = [];
  for (const m of text.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)) {
    if (!/^deployments:/m.test(m[1]!)) continue;
    out.push({ line: text.slice(0, m.index).split('\n').length + 1, yaml: m[1]! });
  }
  return out;
}

describe('docs/cost.md specs', () => {
  it('shows at least one whole spec, and validation accepts each', () => {
    const blocks = specBlocks();
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => parseSpec(b.yaml, `docs/cost.md:${b.line}`)).not.toThrow();
  });

  it('prices its China example in CNY, apart from USD', () => {
    const china = specBlocks().find((b) => /cn-north/.test(b.yaml));
    expect(china).toBeDefined();
    const spec = parseSpec(china!.yaml, 'docs/cost.md');
    const parts = estimateDeployments(Object.values(spec.deployments), { prices: new PriceBook(), spec }).deployments;
    expect(parts.map((d) => [d.name, d.currency])).toEqual([['chat', 'USD'], ['chat-china', 'CNY']]);
    // The instances are priced in both (EC2 g5.xlarge: us-east-1 in USD, cn-north-1 in CNY).
    for (const d of parts) expect(d.monthly.low).toBeGreaterThan(0);
  });

  it('never writes regions that mix China with other regions inline', () => {
    const inline = [...text.matchAll(/`regions: \[([^\]]*)\]`/g)].map((m) => m[1]!.split(',').map((r) => r.trim()));
    for (const regions of inline) {
      const { china, other } = chinaSplit(regions);
      expect({ regions, mixes: china.length > 0 && other.length > 0 }).toEqual({ regions, mixes: false });
    }
  });
});
