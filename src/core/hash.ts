/** Content hashes. */
import { createHash } from 'crypto';

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The base64 form, as S3's ChecksumSHA256 wants it. */
export function sha256Base64(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('base64');
}
