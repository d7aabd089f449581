/**
 * Who acts on each side. A promote job runs as the target's promotion role (its OIDC identity, gated by the
 * target environment's approval) and reads the source with the source account's read-only role, assumed
 * with the job's own OIDC token. A local run with credentials of the source account reads with them and
 * assumes the target's promotion role, which must then trust that caller (the bootstrap's does not).
 */
import type { Actor } from '../core/actor';
import { callerIdentity } from '../core/identity';
import { assumeRole, webIdentityRole } from '../core/credentials';
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { envLocation, PromotionPlan } from './plan';
import type { PromotionRun } from './promotion';

export async function resolveActors(plan: PromotionPlan, run: PromotionRun, reporter: Reporter): Promise<{ sourceActor: Actor; targetActor: Actor }> {
  const { source, target } = plan;
  const me = await callerIdentity({ region: source.region });
  const ambient: Actor = { principal: me.arn, account: me.account };
  if (me.account === target.env.account) return { sourceActor: await sourceReader(plan, run, ambient, reporter), targetActor: ambient };
  if (me.account === source.env.account) {
    reporter.info(`Reading ${source.name} with this session's credentials (${me.arn}): its account ${me.account} is the source's.`);
    return { sourceActor: ambient, targetActor: await assumeTarget(plan, run, me.arn, reporter) };
  }
  throw new DeployError(`This job runs as ${me.arn} in account ${me.account}, which is neither ${source.name} (${source.env.account}) nor ${target.name} (${target.env.account}).`, {
    title: 'Account not in the spec',
    hint: `Run configure-aws-credentials with the ${target.name} promotion role (environments.${target.name}.promotionRoleArn) before promote-model.`,
  });
}

/**
 * The plan job reads the source only: with this session when it is the source account's (promote.yml's plan job
 * runs as the source environment), else with the source's read-only role through OIDC. Nothing is assumed in the target.
 */
export async function resolveSourceActor(plan: PromotionPlan, run: PromotionRun, reporter: Reporter): Promise<Actor> {
  const { source, target } = plan;
  const me = await callerIdentity({ region: source.region });
  const ambient: Actor = { principal: me.arn, account: me.account };
  if (me.account === source.env.account) return ambient;
  if (me.account === target.env.account) return sourceReader(plan, run, ambient, reporter);
  throw new DeployError(`This job runs as ${me.arn} in account ${me.account}, which is neither ${source.name} (${source.env.account}) nor ${target.name} (${target.env.account}).`, {
    title: 'Account not in the spec',
    hint: `Plan with credentials of ${source.name} (${source.env.account}).`,
  });
}

/** The source's reader for a session in the target account: itself (one account), else the read-only role through OIDC. */
async function sourceReader(plan: PromotionPlan, run: PromotionRun, ambient: Actor, reporter: Reporter): Promise<Actor> {
  const { source } = plan;
  if (source.env.account === ambient.account) return ambient;
  if (!run.hasOidcToken) {
    throw new DeployError(`${ambient.principal} is in the target account ${ambient.account}, and there is no GitHub OIDC token to read ${source.name} (${source.env.account}) with.`, {
      title: 'No source credentials',
      hint: `In a workflow, give the job \`permissions: id-token: write\`. Locally, run with credentials of ${source.env.account} instead.`,
    });
  }
  // Only the promotion source role is trusted by other environments' jobs: its bootstrap stack lists them.
  const deniedHint = `For the bootstrap's read-only role: add the target environment to PromotionEnvironments of the ${source.name} account's bootstrap stack, and run the job in that GitHub environment.`;
  const credentials = webIdentityRole({ roleArn: source.roleArn, region: source.region, sessionName: run.sessionName, reporter, deniedHint });
  // Assume now, so a missing trust fails before anything is copied.
  await credentials();
  reporter.info(`Reading ${source.name} (${source.env.account}) as ${source.roleArn}, with this job's OIDC token.`);
  return { principal: `${source.roleArn} (session ${run.sessionName})`, account: source.env.account, credentials };
}

/** A local run: the target's promotion role, assumed from the source-account session. */
async function assumeTarget(plan: PromotionPlan, run: PromotionRun, callerArn: string, reporter: Reporter): Promise<Actor> {
  const { target } = plan;
  if (!target.roleArn) {
    throw new DeployError(`environments.${target.name} (${target.env.account}) has neither promotionRoleArn nor roleArn, so ${callerArn} cannot act in it.`, {
      location: envLocation(plan.spec, target.name),
      title: 'No promotion role',
      hint: `Run promote-model with credentials of ${target.env.account} (promote.yml uses the ${target.name} promotion role), or set environments.${target.name}.promotionRoleArn.`,
    });
  }
  const credentials = assumeRole({ roleArn: target.roleArn, region: target.regions[0] ?? plan.source.region, sessionName: run.sessionName, reporter });
  try {
    await credentials();
  } catch (err) {
    const e = err instanceof DeployError ? err : new DeployError(errorMessage(err), { cause: err });
    throw new DeployError(e.message, {
      cause: e,
      title: e.title,
      hint: `${e.hint ?? ''} The bootstrap's ${target.roleArn.split('/').pop()} role trusts only the ${target.name} environment's GitHub jobs: promote from such a job (promote.yml), whose credentials are the target's.`.trim(),
    });
  }
  return { principal: `${target.roleArn} (session ${run.sessionName})`, account: target.env.account, credentials };
}
