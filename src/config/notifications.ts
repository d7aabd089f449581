/**
 * async.notifications: who hears of each async result, as subscriptions on the stack's success and
 * error topics. An entry is an email address, an SQS queue ARN or a Lambda function ARN in the
 * environment's own account (the deploy role may subscribe nothing else); `{account}` and `{region}`
 * stand for the environment's account and the stack's region, so one spec serves every environment.
 */
import { parseArn } from '../core/arn';
import { partitionOf } from '../core/aws';
import { DeployError } from '../core/errors';
import { regionsFor } from './regions';
import type { DeploymentDraft, EnvironmentSpec } from './types';
import type { ParsedYaml } from './yaml-positions';

export type NotificationTopic = 'success' | 'error';

export interface Subscription {
  topic: NotificationTopic;
  protocol: 'email' | 'sqs' | 'lambda';
  endpoint: string;
}

const TOPICS: NotificationTopic[] = ['success', 'error'];
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s.]+$/;
/** Stands in for {account} where no environment names one: any 12 digits parse. */
const SOME_ACCOUNT = '000000000000';

function substitute(endpoint: string, region: string, account: string): string {
  return endpoint.replace(/\{region\}/g, region).replace(/\{account\}/g, account);
}

/** What an entry is: its protocol, and for an ARN the parts to check. */
function classify(endpoint: string): { protocol: Subscription['protocol']; partition?: string; account?: string } | undefined {
  if (EMAIL.test(endpoint)) return { protocol: 'email' };
  const arn = parseArn(endpoint);
  if (arn?.service === 'sqs' && /^[\w-]{1,80}(\.fifo)?$/.test(arn.resource)) return { protocol: 'sqs', partition: arn.partition, account: arn.account };
  if (arn?.service === 'lambda' && /^function:[\w-]{1,64}(:[\w$-]+)?$/.test(arn.resource)) return { protocol: 'lambda', partition: arn.partition, account: arn.account };
  return undefined;
}

/**
 * The subscriptions of a deployment's stack, endpoints as written: `{account}` and `{region}` become
 * the stack's own AWS::AccountId and AWS::Region (see stackEndpoint).
 */
export function notificationSubscriptions(d: Pick<DeploymentDraft, 'async'>): Subscription[] {
  return TOPICS.flatMap((topic) =>
    (d.async.notifications?.[topic] ?? []).map((endpoint) => {
      // Checked when the spec was loaded: an entry that does not classify never reaches a stack.
      const protocol = classify(substitute(endpoint, 'us-east-1', SOME_ACCOUNT))?.protocol ?? 'email';
      return { topic, protocol, endpoint };
    }),
  );
}

/** An endpoint as the template writes it: with placeholders, a Fn::Sub of the stack's account and region. */
export function stackEndpoint(endpoint: string): string | { 'Fn::Sub': string } {
  if (!/\{(account|region)\}/.test(endpoint)) return endpoint;
  return { 'Fn::Sub': endpoint.replace(/\{account\}/g, '${AWS::AccountId}').replace(/\{region\}/g, '${AWS::Region}') };
}

/** Each entry against the environments that deploy it: its form, partition and account. */
export function notificationChecks(environments: Record<string, EnvironmentSpec>, deployments: DeploymentDraft[], yaml: ParsedYaml): DeployError[] {
  const errors: DeployError[] = [];
  const envs: [string | undefined, EnvironmentSpec | undefined][] = Object.keys(environments).length > 0 ? Object.entries(environments) : [[undefined, undefined]];
  for (const d of deployments) {
    for (const topic of TOPICS) {
      (d.async.notifications?.[topic] ?? []).forEach((written, i) => {
        const field = `async.notifications.${topic}[${i}]`;
        const problem = entryProblem(written, d, envs);
        if (!problem) return;
        errors.push(
          new DeployError(`deployments.${d.name}: ${field} ${problem.message}`, {
            location: yaml.locate(['deployments', d.name, 'async', 'notifications', topic, i]),
            hint: problem.hint,
            title: 'Invalid deployment spec',
          }),
        );
      });
    }
  }
  return errors;
}

function entryProblem(written: string, d: DeploymentDraft, envs: [string | undefined, EnvironmentSpec | undefined][]): { message: string; hint: string } | undefined {
  for (const [name, env] of envs) {
    for (const region of regionsFor(d, env)) {
      const endpoint = substitute(written, region, env?.account ?? SOME_ACCOUNT);
      const kind = classify(endpoint);
      if (!kind) {
        return {
          message: `is "${written}", which is neither an email address nor an SQS queue or Lambda function ARN`,
          hint: 'Write ops@example.com, arn:aws:sqs:{region}:{account}:QUEUE or arn:aws:lambda:{region}:{account}:function:NAME.',
        };
      }
      if (kind.partition && kind.partition !== partitionOf(region)) {
        return {
          message: `is an ARN of partition ${kind.partition}, but the stack runs in ${region} (partition ${partitionOf(region)})`,
          hint: 'A topic delivers only within its partition: name a queue or function of that partition, in an environment of its own.',
        };
      }
      if (kind.account && env?.account && kind.account !== env.account) {
        return {
          message: `is a ${kind.protocol === 'sqs' ? 'queue' : 'function'} of account ${kind.account}, but environment ${name} deploys to account ${env.account}`,
          hint: 'Subscriptions go to the same account as the stack (the deploy role may subscribe nothing else): write {account} for the environment\'s own account, or route through a queue of that account.',
        };
      }
    }
  }
  return undefined;
}
