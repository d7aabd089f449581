/** What a promotion reports: one line per finished region, and the job summary's table. */
import type { PromotionPlan } from './plan';
import type { TargetResult } from './promotion';
import { formatBytes } from '../core/bytes';

export interface FailedRegion {
  region: string;
  /** The digest-pinned image URI when the image is in place (tagged) in that region. */
  imageInPlace?: string;
}

/** What one region did, for its "done" line. */
export function describeRegion(r: TargetResult): string {
  const parts: string[] = [];
  if (r.image) parts.push(`image ${r.image}, ${r.blobsCopied} blobs copied, ${r.blobsSkipped} skipped, ${formatBytes(r.bytesMoved)} moved`);
  if (r.modelDataUrl) parts.push(`${r.objectsCopied} objects copied, ${r.objectsSkipped} skipped, ${formatBytes(r.bytesCopied)} copied in S3`);
  if (r.modelArn) parts.push(`model ${r.modelArn}`);
  if (r.provisionedModelArn) parts.push(`provisioned throughput ${r.provisionedModelArn}`);
  return parts.join('; ');
}

export function summaryMarkdown(plan: PromotionPlan, targets: TargetResult[], failed: FailedRegion[]): string {
  const lines = [
    `### Promotion of ${plan.deployment.name}: ${plan.source.name} → ${plan.target.name}`,
    '',
    '| Account | Region | Image | Blobs copied / skipped | Bytes moved | Objects copied / skipped | S3 bytes copied | Bedrock model | Time |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of targets) {
    lines.push(
      `| ${t.account} | ${t.region} | ${t.image ? `${t.image}${t.digest ? ` \`${t.digest.slice(0, 19)}…\`` : ''}` : '-'} | ${t.image ? `${t.blobsCopied} / ${t.blobsSkipped}` : '-'} | ${t.image ? formatBytes(t.bytesMoved) : '-'} | ${t.modelDataUrl ? `${t.objectsCopied} / ${t.objectsSkipped}` : '-'} | ${t.modelDataUrl ? formatBytes(t.bytesCopied) : '-'} | ${t.modelArn ? `${t.modelArn}${t.provisionedModelArn ? ` (provisioned: ${t.provisionedModelArn})` : ''}` : '-'} | ${t.seconds.toFixed(1)} s |`,
    );
  }
  for (const f of failed) {
    const state = f.imageInPlace ? 'image in place, weights or model not; re-run to finish' : 'nothing tagged; re-run to finish';
    lines.push(`| ${plan.target.env.account} | ${f.region} | **failed** (${state}) | | | | | | |`);
  }
  return `${lines.join('\n')}\n`;
}
