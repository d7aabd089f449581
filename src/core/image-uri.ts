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

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/;
const PINNED = /@(sha256:[a-f0-9]{64})$/;

/**
 * The parts of an ECR image reference, tag and digest optional (REPO alone pulls :latest, as a
 * Dockerfile's `FROM` or a stack's image may say); undefined for other registries and non-URIs.
 */
export function parseImageRef(ref: string): ImageUri | undefined {
  const [, account, region, repositoryName, tag, digest] = ECR_IMAGE.exec(ref) ?? [];
  if (!account || !region || !repositoryName) return undefined;
  return { account, region, repositoryName, tag, digest };
}

/** The parts of an ECR image URI with a tag or a digest; undefined for anything else. */
export function parseImageUri(uri: string): ImageUri | undefined {
  const image = parseImageRef(uri);
  return image && (image.tag || image.digest) ? image : undefined;
}

/** The digest of an image reference pinned by one (REF@sha256:HEX, any registry), else undefined. */
export function pinnedDigest(ref: string): string | undefined {
  return PINNED.exec(ref)?.[1];
}

/** The digest-pinned URI of an image: ACCOUNT.dkr.ecr.REGION.DNS_SUFFIX/REPO@DIGEST. */
export function formatImageUri(account: string, region: string, repositoryName: string, digest: string): string {
  return `${account}.dkr.ecr.${region}.${dnsSuffix(region)}/${repositoryName}@${digest}`;
}
