/**
 * No false green (#23.3): after the stack says COMPLETE, what runs must be what was asked. An ECS service
 * whose circuit breaker rolled the rollout back, or whose primary deployment is not the stack's task
 * definition, is a failure; so is an EC2 fleet whose instances are not healthy behind the target group.
 * (The SageMaker endpoint's own check, config and status, is verifySageMakerEndpoint in verify.ts.)
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, Deployment as EcsDeployment, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeployError, explainAwsError } from '../core/errors';
import type { Reporter } from '../core/log';
import { isPollTimeout, poll, PollOptions } from '../core/poll';
import { elapsedText } from './events';

type PollSeams = Partial<Pick<PollOptions<unknown>, 'sleep' | 'now' | 'random'>>;

/** The longest quiet interval between two looks at a service or target group: the end is noticed within it. */
export const RUNNING_POLL_MAX_MS = 5000;

/** Physical ids of the stack's resources by type (the first of each type), from one paged ListStackResources. */
export async function stackPhysicalIds(cfn: CloudFormationClient, stackId: string): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  let next: string | undefined;
  do {
    const out = await cfn.send(new ListStackResourcesCommand({ StackName: stackId, NextToken: next }));
    for (const r of out.StackResourceSummaries ?? []) {
      if (r.ResourceType && r.PhysicalResourceId && !ids.has(r.ResourceType)) ids.set(r.ResourceType, r.PhysicalResourceId);
    }
    next = out.NextToken;
  } while (next);
  return ids;
}

interface WaitCommon {
  deadline: number;
  reporter: Reporter;
  signal?: AbortSignal;
  pollOverrides?: PollSeams;
}

function waitOptions(o: WaitCommon, what: string) {
  const now = o.pollOverrides?.now ?? Date.now;
  return {
    what,
    initialDelayMs: 2000,
    maxDelayMs: RUNNING_POLL_MAX_MS,
    timeoutMs: Math.max(0, o.deadline - now()),
    signal: o.signal,
    heartbeat: { say: (ms: number) => o.reporter.info(`Still waiting for ${what} (${elapsedText(ms)}).`) },
    ...o.pollOverrides,
  };
}

export interface EcsRolloutOptions extends WaitCommon {
  ecs: ECSClient;
  cluster: string;
  service: string;
  /** The task definition the stack holds: the primary deployment must run it. */
  taskDefinition?: string;
}

/** Waits for the service's primary deployment to settle; fails unless it COMPLETED on the stack's task definition. */
export async function verifyEcsRollout(o: EcsRolloutOptions): Promise<void> {
  let deployments: EcsDeployment[] = [];
  const primary = () => deployments.find((d) => d.status === 'PRIMARY');
  try {
    await poll<EcsDeployment[]>({
      check: async () => {
        const out = await o.ecs.send(new DescribeServicesCommand({ cluster: o.cluster, services: [o.service] }));
        deployments = out.services?.[0]?.deployments ?? [];
        return deployments;
      },
      done: () => primary()?.rolloutState !== 'IN_PROGRESS',
      progressed: (now, before) => primary()?.runningCount !== before?.find((d) => d.status === 'PRIMARY')?.runningCount || now.length !== before?.length,
      ...waitOptions(o, `ECS service ${o.service} to finish its rollout`),
    });
  } catch (err) {
    throw explainAwsError(err, `Checking the rollout of ECS service ${o.service}`);
  }
  const p = primary();
  const failed = deployments.find((d) => d.rolloutState === 'FAILED');
  const wrongTask = Boolean(o.taskDefinition && p?.taskDefinition && p.taskDefinition !== o.taskDefinition);
  if (!p || p.rolloutState === 'FAILED' || wrongTask || (failed && failed.taskDefinition === o.taskDefinition)) {
    const reason = failed?.rolloutStateReason ?? p?.rolloutStateReason;
    throw new DeployError(
      `ECS service ${o.service} is not running the deployed task definition: ${wrongTask ? `its primary deployment runs ${p?.taskDefinition}, not ${o.taskDefinition} (the deployment circuit breaker rolled it back)` : `rollout ${p?.rolloutState ?? 'missing'}`}${reason ? `: ${reason}` : ''}.`,
      {
        title: 'ECS rolled the deployment back',
        hint:
          `The previous version keeps serving. The new tasks did not become healthy: see the stopped tasks' reason (aws ecs describe-tasks --cluster ${o.cluster} --desired-status STOPPED) ` +
          'and the container logs (the stack output LogGroupName), fix, and deploy again.',
      },
    );
  }
  o.reporter.info(`ECS service ${o.service}: rollout COMPLETED on ${p.taskDefinition ?? 'its task definition'} (${p.runningCount ?? '?'}/${p.desiredCount ?? '?'} tasks).`);
}

export interface TargetHealthOptions extends WaitCommon {
  elbv2: ElasticLoadBalancingV2Client;
  targetGroupArn: string;
}

function targetLine(t: TargetHealthDescription): string {
  const h = t.TargetHealth;
  return `${t.Target?.Id ?? '?'}:${t.Target?.Port ?? ''} ${h?.State ?? 'unknown'}${h?.Reason ? ` (${h.Reason}${h.Description ? `: ${h.Description}` : ''})` : ''}`;
}

/** Waits until every target registered with the group is healthy (at least one); at the deadline says each target's state. */
export async function verifyTargetsHealthy(o: TargetHealthOptions): Promise<number> {
  let targets: TargetHealthDescription[] = [];
  const live = () => targets.filter((t) => !['draining', 'unhealthy.draining'].includes(t.TargetHealth?.State ?? ''));
  const allHealthy = () => live().length > 0 && live().every((t) => t.TargetHealth?.State === 'healthy');
  try {
    await poll<string>({
      check: async () => {
        const out = await o.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: o.targetGroupArn }));
        targets = out.TargetHealthDescriptions ?? [];
        return targets.map(targetLine).join(', ');
      },
      done: allHealthy,
      progressed: (now, before) => now !== before,
      ...waitOptions(o, `the instances to be healthy behind target group ${o.targetGroupArn}`),
    });
  } catch (err) {
    if (isPollTimeout(err)) {
      throw new DeployError(`The EC2 instances are not healthy behind the load balancer: ${targets.length ? targets.map(targetLine).join('; ') : 'no target is registered'}.`, {
        title: 'Instances not healthy',
        hint:
          'The stack completed, but the load balancer does not route to a healthy instance. See the instance logs (the stack output LogGroupName) for the engine start-up, ' +
          'and the target group health check (path, port 8080). Raise timeout-minutes if the model needs longer to load.',
      });
    }
    throw explainAwsError(err, `Checking target health of ${o.targetGroupArn}`);
  }
  o.reporter.info(`${live().length} instance(s) healthy behind the load balancer.`);
  return live().length;
}
