/**
 * The image content hash a benchmark result is keyed by, computed the same way by the deploy that
 * measures and by the pull-request job that reads (offline, from the head's files): the tag
 * build-model gives the image it builds (renderBuild's md-<40 hex>, per region, as it builds per
 * region), or the digest of a prebuilt image pinned by digest. A prebuilt image named by a tag alone
 * has no content hash (the tag can move): it is never "measured".
 */
import type { Deployment } from '../config/types';
import { pinnedDigest } from '../core/image-uri';
import { renderBuild } from '../image/render';

/** An image reference's content hash: its digest, or build-model's content-addressed md- tag. */
export function hashOfImageUri(uri: string): string | undefined {
  return pinnedDigest(uri) ?? /:(md-[0-9a-f]{40})$/.exec(uri)?.[1];
}

export function imageHashOf(d: Deployment, region: string, specDir: string): string | undefined {
  if (d.model.image && !d.engine) return pinnedDigest(d.model.image);
  try {
    return renderBuild(d, { region, specDir }).tag;
  } catch {
    // A build that cannot be rendered (a missing custom Dockerfile) has no hash: "not measured".
    return undefined;
  }
}
