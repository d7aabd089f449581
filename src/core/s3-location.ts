/**
 * S3 locations, one way: `s3://bucket/key` (the key may be empty, or a prefix ending in "/") and the
 * virtual-hosted HTTPS form SageMaker returns for async outputs (`https://bucket.s3.region.amazonaws.com/key`).
 */
export interface S3Location {
  bucket: string;
  /** Object key or prefix; "" for the bucket itself. */
  key: string;
}

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;
const S3_HTTPS = /^https:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3[.-][^/]+\/(.*)$/;

/** The bucket and key of an s3:// (or virtual-hosted https://) URL, or undefined when it is neither. */
export function parseS3Location(url: string): S3Location | undefined {
  const m = S3_URI.exec(url) ?? S3_HTTPS.exec(url);
  if (!m?.[1]) return undefined;
  return { bucket: m[1], key: m[2] ?? '' };
}

export function s3Url(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}
