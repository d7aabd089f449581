/** Provenance tags: where the model came from and which run moved it, in values every AWS service accepts. */
import type { PromotionPlan } from './plan';
import type { PromotionRun } from './promotion';

/** AWS tag values allow letters, digits, spaces and + - = . _ : / @ (S3 is the strictest); others become "_". */
export function tagValue(v: string): string {
  return v.replace(/[^\w\s+\-=.:/@]/g, '_').slice(0, 256);
}

export function provenanceTags(plan: PromotionPlan, run: PromotionRun, digest?: string): Record<string, string> {
  const tags: Record<string, string> = {
    'model-deploy:source-account': plan.source.env.account,
    'model-deploy:source-region': plan.source.region,
  };
  if (digest) tags['model-deploy:digest'] = digest;
  if (run.commit) tags['model-deploy:git-commit'] = run.commit;
  if (run.runUrl) tags['model-deploy:run-url'] = tagValue(run.runUrl);
  return tags;
}
