/**
 * Moves one image blob between registries without holding it in memory: a streaming GET of the
 * source's presigned layer URL, cut into parts of at most `partSize` bytes that are uploaded in
 * order as they fill, with the sha256 computed on the way. A blob whose bytes do not hash to its
 * digest is never completed, so the target registry never holds it.
 */
import { createHash } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { DeployError } from '../core/errors';

/** ECR accepts parts up to 20 MiB. */
export const MAX_PART_SIZE = 20 * 1024 * 1024;

export interface BlobTransfer {
  url: string;
  digest: string;
  /** Size from the manifest, checked against the bytes received when known. */
  size?: number;
  partSize: number;
  /** Uploads bytes [first, last] (inclusive), in order. */
  uploadPart: (part: Buffer, first: number, last: number) => Promise<void>;
  signal?: AbortSignal;
}

function get(url: string, signal?: AbortSignal, redirects = 3): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
        res.resume();
        resolve(get(new URL(res.headers.location, url).toString(), signal, redirects - 1));
        return;
      }
      if (status !== 200) {
        res.resume();
        // The presigned URL carries a signature: never print it.
        reject(new DeployError(`Downloading a layer from the source registry returned HTTP ${status}.`, {
          hint: status === 403 ? 'The presigned layer URL expired or was refused; re-run the promotion (finished layers are skipped).' : undefined,
        }));
        return;
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}

/** Streams the blob from `url` into uploaded parts; returns the number of bytes moved. */
export async function transferBlob(t: BlobTransfer): Promise<number> {
  const partSize = Math.min(Math.max(1, t.partSize), MAX_PART_SIZE);
  const res = await get(t.url, t.signal);
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let sent = 0;
  const flush = async (bytes: number) => {
    const [only] = pending;
    const joined = pending.length === 1 && only ? only : Buffer.concat(pending, pendingBytes);
    const part = joined.subarray(0, bytes);
    const rest = joined.subarray(bytes);
    pending = rest.length ? [rest] : [];
    pendingBytes = rest.length;
    await t.uploadPart(part, sent, sent + part.length - 1);
    sent += part.length;
  };
  // for-await pauses the socket while a part uploads: memory stays at about one part.
  for await (const chunk of res as AsyncIterable<Buffer>) {
    hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= partSize) await flush(partSize);
  }
  if (pendingBytes > 0) await flush(pendingBytes);
  const got = `sha256:${hash.digest('hex')}`;
  const received = sent;
  if (got !== t.digest) {
    throw new DeployError(`Layer ${t.digest} arrived with sha256 ${got}: the download is corrupt, so it was not completed in the target.`, {
      title: 'Layer digest mismatch',
      hint: 'Re-run the promotion; if it repeats, the source image is damaged (push it again).',
    });
  }
  if (t.size !== undefined && received !== t.size) {
    throw new DeployError(`Layer ${t.digest} has ${received} bytes, the manifest says ${t.size}.`, { title: 'Layer size mismatch' });
  }
  return received;
}
