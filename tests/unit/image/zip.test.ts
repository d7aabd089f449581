import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32, createZip } from '../../../src/image/zip';

describe('createZip', () => {
  it('writes an archive that a standard unzip reads back, with modes and identical bytes every time', () => {
    const big = Buffer.from('x'.repeat(10000));
    const random = Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 7919) % 251));
    const entries = [
      { path: 'model-deploy/serving/serve.sh', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
      { path: 'Dockerfile', content: big },
      { path: 'bin/data', content: random },
      { path: 'empty', content: Buffer.alloc(0) },
    ];
    const zip = createZip(entries);
    expect(createZip([...entries].reverse()).equals(zip)).toBe(true);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'md-zip-')), 'a.zip');
    fs.writeFileSync(file, zip);
    const listing = execFileSync('python3', ['-c', `
import zipfile, sys, json, hashlib
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [hashlib.sha256(z.read(i)).hexdigest(), i.external_attr >> 16 & 0o777] for i in z.infolist()}))
`, file]).toString();
    const read = JSON.parse(listing) as Record<string, [string, number]>;
    const sha = (b: Buffer) => require('crypto').createHash('sha256').update(b).digest('hex');
    for (const e of entries) expect(read[e.path]).toEqual([sha(e.content), e.mode ?? 0o644]);
    expect(zip.length).toBeLessThan(big.length);
  });
  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});
