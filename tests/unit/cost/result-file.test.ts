import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JsonItems, writeJsonFile } from '../../../src/cost/result-file';

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

  it('makes the items of a JsonItems one at a time as it writes them, the same bytes as JSON.stringify', () => {
    const made: number[] = [];
    const items = new JsonItems(Array.from({ length: 2500 }, (_, i) => i), (i) => {
      made.push(i);
      return { name: `model-${i}`, breakdown: { resources: [{ note: 'y'.repeat(600), skip: undefined }] } };
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'json-file-')), 'out.json');
    writeJsonFile(file, { version: '0.2', projects: items, after: [1] });
    expect(made).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    expect(fs.readFileSync(file, 'utf8')).toBe(JSON.stringify({ version: '0.2', projects: items, after: [1] }) + '\n');
  });
});
