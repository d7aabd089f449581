/** ECR image URIs: ACCOUNT.dkr.ecr.REGION.amazonaws.com[.cn]/REPO[:TAG][@sha256:HEX]. */
import { dnsSuffix } from './aws';

export interface ImageRef {
  tag?: string;
  digest?: string;
}

export interface ImageUri extends ImageRef {
  account: string;
  region: string;
  repositoryName: string;
}

/** The parts of an ECR image URI with a tag or a digest; undefined for anything else. */
export function parseImageUri(uri: string): ImageUri | undefined {
  const m = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._\/-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(uri);
  const [, account, region, repositoryName, tag, digest] = m ?? [];
  if (!account || !region || !repositoryName || (!tag && !digest)) return undefined;
  return { account, region, repositoryName, tag, digest };
}

/** The digest-pinned URI of an image: ACCOUNT.dkr.ecr.REGION.DNS_SUFFIX/REPO@DIGEST. */
export function formatImageUri(account: string, region: string, repositoryName: string, digest: string): string {
  return `${account}.dkr.ecr.${region}.${dnsSuffix(region)}/${repositoryName}@${digest}`;
}
