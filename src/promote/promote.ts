/**
 * promote-model: an approved model moves from the source environment (dev) to a target environment's
 * account and regions, verified by digest. Everything the spec and inputs say is checked before the
 * first AWS call (plan.ts). The job runs as the target's promotion role (its own OIDC identity, after the
 * target environment's approval) and reads the source with the source account's read-only role, assumed
 * with the job's OIDC token; a local run with source-account credentials assumes the target role
 * (actors.ts). With no weights named, a Hugging Face model's weights are the ones build-model put in the
 * source's artifact bucket. The target's artifact bucket is created (hardened, versioned) when missing.
 * Regions run in parallel, each to its end; the image tag goes last, a failed region's message says what
 * it left in place, and a re-run finishes it (regions.ts).
 */
import type { RunContext } from '../core/action';
import { settleLimit } from '../core/concurrency';
import { defaultSessionName, hasGitHubOidc } from '../core/credentials';
import type { Target } from '../config/select';
import { resolveActors } from './actors';
import { checkBedrock, shareBedrockModel } from './bedrock-promotion';
import { resolveImage } from './image-promotion';
import { planPromotion, PromoteModelRequest } from './plan';
import type { Promotion, PromotionRun, PromoteResult } from './promotion';
import { finish, promoteRegion } from './regions';

/** promote-model's one domain call: `target` is the target environment, selected with its regions. */
export async function promoteModel(target: Target, request: PromoteModelRequest, run: RunContext): Promise<PromoteResult> {
  const plan = planPromotion(target, request);
  const who = promotionRun(run);
  const { sourceActor, targetActor } = await resolveActors(plan, who, run.reporter);
  const { deployment: d, source, target: to } = plan;
  run.reporter.info(`Promoting ${d.name} from ${source.name} (${source.env.account} ${source.region}) to ${to.name} (${to.env.account} ${to.regions.join(', ')}) as ${targetActor.principal}.`);
  const tuning = request.tuning ?? {};
  const p: Promotion = { plan, run: who, reporter: run.reporter, signal: run.signal, tuning, timeoutMs: request.timeoutMs ?? 120 * 60_000, sourceActor, targetActor };
  // What Bedrock would refuse is found before anything is shared, copied or bought.
  await checkBedrock(p);
  // Resolve the image once: every region gets the same digest.
  const ref = await resolveImage(p);
  await shareBedrockModel(p);
  const settled = await settleLimit(to.regions, tuning.regionConcurrency ?? 4, (region) => promoteRegion(p, region, ref));
  return finish(p, settled);
}

/** The run as the runner describes it: the role session's name, the commit and run for provenance, an OIDC token. */
function promotionRun(run: RunContext): PromotionRun {
  const { env } = run;
  const runner = { GITHUB_RUN_ID: env.get('GITHUB_RUN_ID'), GITHUB_RUN_ATTEMPT: env.get('GITHUB_RUN_ATTEMPT'), GITHUB_REPOSITORY: env.repository };
  const oidc = { ACTIONS_ID_TOKEN_REQUEST_URL: env.get('ACTIONS_ID_TOKEN_REQUEST_URL'), ACTIONS_ID_TOKEN_REQUEST_TOKEN: env.get('ACTIONS_ID_TOKEN_REQUEST_TOKEN') };
  return {
    sessionName: defaultSessionName(runner).replace(/^model-deploy-/, 'promote-').slice(0, 64),
    commit: env.sha,
    runUrl: env.runUrl,
    hasOidcToken: hasGitHubOidc(oidc),
  };
}
