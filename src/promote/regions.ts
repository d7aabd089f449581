/**
 * Each target region to its end: image, weights and Bedrock model in parallel; then the summary, and every
 * failed region's error together, saying what it left in place and that a re-run finishes it.
 */
import type { ImageRef } from '../core/image-uri';
import { DeployError, DeployErrors, errorMessage } from '../core/errors';
import { copyBedrockModel } from './bedrock-promotion';
import { promoteImage } from './image-promotion';
import type { Promotion, PromoteResult, TargetResult } from './promotion';
import { describeRegion, FailedRegion, summaryMarkdown } from './summary';
import { promoteModelData } from './weights-promotion';

/** One target region: image, weights and Bedrock model in parallel, each to its end. */
export async function promoteRegion(p: Promotion, region: string, ref: ImageRef | undefined): Promise<TargetResult> {
  const { plan } = p;
  const started = Date.now();
  const r: TargetResult = {
    environment: plan.target.name,
    account: plan.target.env.account,
    region,
    blobsCopied: 0,
    blobsSkipped: 0,
    bytesMoved: 0,
    objectsCopied: 0,
    objectsSkipped: 0,
    bytesCopied: 0,
    calls: 0,
    seconds: 0,
  };
  const work: Promise<void>[] = [];
  if (plan.image && ref) work.push(promoteImage(p, region, plan.image.repositoryName, ref, r));
  if (plan.modelData) work.push(promoteModelData(p, region, plan.modelData, r));
  if (plan.bedrockModelArn) work.push(copyBedrockModel(p, region, plan.bedrockModelArn, r));
  const settled = await Promise.allSettled(work);
  r.seconds = (Date.now() - started) / 1000;
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw new RegionFailure(failed.reason, r);
  p.reporter.info(`${region}: done in ${r.seconds.toFixed(1)} s (${describeRegion(r)}).`);
  return r;
}

/** A region that failed, with what it had done by then (the image may be tagged while the weights failed). */
class RegionFailure extends Error {
  constructor(readonly reason: unknown, readonly partial: TargetResult) {
    super(errorMessage(reason));
  }
}

/** The summary, then the result, or every failed region's error together. */
export async function finish(p: Promotion, settled: PromiseSettledResult<TargetResult>[]): Promise<PromoteResult> {
  const regions = p.plan.target.regions;
  const targets = settled.filter((s): s is PromiseFulfilledResult<TargetResult> => s.status === 'fulfilled').map((s) => s.value);
  const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [regionFailure(s.reason, regions[i] ?? '')] : []));
  await p.reporter.summary(summaryMarkdown(p.plan, targets, failures));
  if (failures.length > 0) {
    const errors = failures.map(({ region, imageInPlace, reason }) => {
      const e = reason instanceof DeployError ? reason : new DeployError(errorMessage(reason), { cause: reason });
      const done = imageInPlace ? `the image is in place (${imageInPlace}), but ` : '';
      return new DeployError(`${region}: ${done}${e.message}`, { hint: e.hint, title: e.title, location: e.location, cause: e });
    });
    throw new DeployErrors([...errors, rerunAdvice(failures)]);
  }
  const digests = new Set(targets.flatMap((t) => (t.digest ? [t.digest] : [])));
  return { digest: digests.size === 1 ? [...digests][0] : undefined, targets };
}

function regionFailure(reason: unknown, region: string): FailedRegion & { reason: unknown } {
  if (!(reason instanceof RegionFailure)) return { region, reason };
  return { region, reason: reason.reason, imageInPlace: reason.partial.imageUri };
}

/** What a re-run finishes, true for each failed region: the image tag goes last, so an untagged region has no tag. */
function rerunAdvice(failures: FailedRegion[]): DeployError {
  const tagged = failures.filter((f) => f.imageInPlace).map((f) => f.region);
  const untagged = failures.filter((f) => !f.imageInPlace).map((f) => f.region);
  const parts = [
    ...(untagged.length ? [`nothing was tagged in ${untagged.join(', ')}`] : []),
    ...(tagged.length ? [`${tagged.join(', ')}: the image is in place, the rest is not`] : []),
  ];
  return new DeployError(`Promotion incomplete: ${parts.join('; ')}; re-run promote-model to finish (what was copied is skipped).`, { title: 'Promotion incomplete' });
}
