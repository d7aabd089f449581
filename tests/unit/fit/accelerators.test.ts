/** The accelerator table of docs/spec.md is the one the check uses (src/fit/accelerators.ts): same figures, same sources. */
import * as fs from 'fs';
import * as path from 'path';
import { acceleratedTypes, acceleratorsOf } from '../../../src/fit/accelerators';

const DOC = fs.readFileSync(path.resolve(__dirname, '../../../docs/spec.md'), 'utf8');

/** Rows of the doc's table: family → device, GiB, size → count, source. */
function documented(): Map<string, { device: string; memoryGiB: number; source: string; sizes: Map<string, number> }> {
  const table = DOC.slice(DOC.indexOf('## Accelerator table'));
  const out = new Map<string, { device: string; memoryGiB: number; source: string; sizes: Map<string, number> }>();
  for (const line of table.split('\n').filter((l) => /^\| [a-z0-9, ]+ \| /.test(l) && !l.startsWith('| Family'))) {
    const [families = '', device = '', memory = '', counts = '', source = ''] = line.split('|').slice(1).map((c) => c.trim());
    const sizes = new Map<string, number>();
    for (const group of counts.split(';')) {
      const [names = '', n = ''] = group.split(':').map((s) => s.trim());
      for (const name of names.split(',').map((s) => s.trim())) {
        const range = /^(\w+)-(\w+)$/.exec(name);
        // "xlarge-16xlarge" lists the single-device sizes up to 16xlarge.
        const expand = range ? ['xlarge', '2xlarge', '4xlarge', '8xlarge', '16xlarge'] : [name];
        for (const s of expand) sizes.set(s, Number(n));
      }
    }
    for (const family of families.split(',').map((f) => f.trim())) out.set(family, { device, memoryGiB: parseFloat(memory), source, sizes });
  }
  return out;
}

describe('accelerator table', () => {
  it('docs/spec.md lists every type of the code with the same device, memory, count and source', () => {
    const doc = documented();
    const types = acceleratedTypes();
    expect(types.length).toBeGreaterThan(40);
    for (const t of types) {
      const [family = '', size = ''] = t.split('.');
      const row = doc.get(family);
      const acc = acceleratorsOf(`ml.${t}`);
      expect({ t, device: row?.device, memoryGiB: row?.memoryGiB, count: row?.sizes.get(size), source: row?.source }).toEqual({ t, device: acc?.device, memoryGiB: acc?.memoryGiB, count: acc?.count, source: acc?.source });
    }
    expect(acceleratorsOf('ml.m5.xlarge')).toBeUndefined();
  });
});
