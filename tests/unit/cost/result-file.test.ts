import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeJsonFile } from '../../../src/cost/result-file';

describe('writeJsonFile', () => {
  it('writes the bytes JSON.stringify does, undefined members and array holes included', () => {
    const value = {
      a: 1,
      skip: undefined,
      text: 'range $1 – $2 → "quoted" \\ ünïcode',
      list: [1, undefined, { deep: { deeper: { deepest: [undefined, 'x'] } }, fn: () => 1 }, null],
      when: new Date(0),
      nested: { changes: Array.from({ length: 3000 }, (_, i) => ({ i, name: `model-${i}`, note: 'x'.repeat(500) })) },
    };
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'json-file-')), 'out.json');
    writeJsonFile(file, value);
    expect(fs.readFileSync(file, 'utf8')).toBe(JSON.stringify(value) + '\n');
  });
});
