/** What the steps of one promotion share (the plan, who acts on each side, the run), and what each target region reports. */
import type { Actor } from '../core/actor';
import type { Reporter } from '../core/log';
import type { ObjectVersion } from '../core/s3-copy';
import type { PromoteTuning, PromotionPlan } from './plan';
import type { PlannedObject } from './fixed-plan';

/** The run that promotes: it names the role sessions, and the provenance tags. */
export interface PromotionRun {
  sessionName: string;
  commit?: string;
  runUrl?: string;
  /** The job can ask GitHub for an OIDC token (permissions: id-token: write). */
  hasOidcToken: boolean;
}

export interface Promotion {
  plan: PromotionPlan;
  run: PromotionRun;
  reporter: Reporter;
  signal?: AbortSignal;
  tuning: PromoteTuning;
  timeoutMs: number;
  sourceActor: Actor;
  targetActor: Actor;
  /** A fixed plan's source objects: exactly these versions are copied, nothing listed anew. */
  plannedObjects?: PlannedObject[];
}

export interface TargetResult {
  environment: string;
  account: string;
  region: string;
  imageUri?: string;
  image?: 'copied' | 'present' | 'replicated';
  digest?: string;
  modelDataUrl?: string;
  /** The objects under modelDataUrl as the target holds them (version id, ETag, SHA-256), for deploy to pin. */
  modelDataVersions?: ObjectVersion[];
  modelArn?: string;
  /** The provisioned throughput of the copied Bedrock model, when asked for. */
  provisionedModelArn?: string;
  blobsCopied: number;
  blobsSkipped: number;
  bytesMoved: number;
  objectsCopied: number;
  objectsSkipped: number;
  bytesCopied: number;
  calls: number;
  seconds: number;
}

export interface PromoteResult {
  digest?: string;
  targets: TargetResult[];
}

/** The `model-data-versions` output: region → object key → { versionId, etag, checksumSha256 }. */
export function modelDataVersionsOutput(result: PromoteResult): string {
  const byRegion = result.targets.flatMap((t) =>
    t.modelDataVersions ? [[t.region, Object.fromEntries(t.modelDataVersions.map(({ key, ...version }) => [key, version]))] as const] : [],
  );
  return JSON.stringify(Object.fromEntries(byRegion));
}
