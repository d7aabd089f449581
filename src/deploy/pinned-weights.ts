/**
 * Weights pinned at promotion (issue 12.2): promote-model outputs, per region, the S3 version (and checksum)
 * of every object it copied into the versioned target bucket. Before anything mutates, deploy-endpoint checks
 * that each object is still that version: an object overwritten since (by anyone holding write on the bucket)
 * is refused instead of being served at the next scale-out.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { awsClient, Credentials } from '../core/aws';
import { DeployError, explainAwsError, isNotFound } from '../core/errors';
import { parseS3Location } from '../core/s3-location';

export interface PinnedObject {
  versionId?: string;
  etag?: string;
  checksumSha256?: string;
}

/** region → object key → what promotion copied. */
export type PinnedVersions = Record<string, Record<string, PinnedObject>>;

const HINT = 'Pass model-data-versions as promote-model outputs it: ${{ steps.promote.outputs.model-data-versions }}.';

/** Parses the model-data-versions input (a JSON object region → key → version); names only the target's regions. */
export function parsePinnedVersions(text: string | undefined, regions: readonly string[]): PinnedVersions {
  if (!text?.trim()) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DeployError(`model-data-versions is not JSON: ${text.slice(0, 80)}`, { title: 'Invalid input', hint: HINT });
  }
  const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(value)) throw new DeployError('model-data-versions must be a JSON object region → key → version', { title: 'Invalid input', hint: HINT });
  const out: PinnedVersions = {};
  for (const [region, objects] of Object.entries(value)) {
    if (!regions.includes(region)) throw new DeployError(`model-data-versions names ${region}, which is not one of this deployment's regions (${regions.join(', ')})`, { title: 'Invalid input', hint: HINT });
    if (!isObject(objects)) throw new DeployError(`model-data-versions["${region}"] must be an object key → version`, { title: 'Invalid input', hint: HINT });
    out[region] = {};
    for (const [key, v] of Object.entries(objects)) {
      if (!isObject(v)) throw new DeployError(`model-data-versions["${region}"]["${key}"] must be an object`, { title: 'Invalid input', hint: HINT });
      const pick = (f: string) => (typeof v[f] === 'string' ? (v[f] as string) : undefined);
      out[region][key] = { versionId: pick('versionId'), etag: pick('etag'), checksumSha256: pick('checksumSha256') };
    }
  }
  return out;
}

export interface PinCheck {
  region: string;
  account: string;
  modelDataUrl?: string;
  pinned: Record<string, PinnedObject> | undefined;
  credentials?: Credentials;
}

/** Every pinned object of the region's weights must still be the promoted version (VersionId, else ETag). */
export async function checkPinnedWeights(check: PinCheck): Promise<number> {
  const entries = Object.entries(check.pinned ?? {});
  if (entries.length === 0) return 0;
  const location = check.modelDataUrl ? parseS3Location(check.modelDataUrl) : undefined;
  if (!location) {
    throw new DeployError(`model-data-versions pins ${entries.length} object(s) in ${check.region}, but the weights location there is not an S3 URL`, { title: 'Invalid input', hint: HINT });
  }
  const s3 = awsClient(S3Client, { region: check.region, credentials: check.credentials });
  const changed: string[] = [];
  for (const [key, pin] of entries) {
    let head;
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: key, ExpectedBucketOwner: check.account }));
    } catch (err) {
      if (isNotFound(err)) {
        changed.push(`${key} (deleted)`);
        continue;
      }
      throw explainAwsError(err, `Checking s3://${location.bucket}/${key} against the promoted version`);
    }
    const same = pin.versionId ? head.VersionId === pin.versionId : pin.etag ? head.ETag === pin.etag : true;
    if (!same) changed.push(`${key} (now ${head.VersionId ?? head.ETag}, promoted ${pin.versionId ?? pin.etag})`);
  }
  if (changed.length > 0) {
    throw new DeployError(`The weights in s3://${location.bucket}/ changed since they were promoted: ${changed.slice(0, 5).join(', ')}${changed.length > 5 ? ` and ${changed.length - 5} more` : ''}`, {
      title: 'Promoted weights changed',
      hint: 'Nothing was deployed. Someone overwrote the promoted objects: re-run promote-model from the approved source (it copies the source again and outputs the new versions), then deploy.',
    });
  }
  return entries.length;
}
