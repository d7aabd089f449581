/**
 * DescribeStacks answers for tests that stub one stack rather than run the fake CloudFormation of
 * ./world.ts: the SDK shape for aws-sdk-client-mock (`stackAnswer`, `stackNotFound`) and the awsQuery
 * XML for loopback servers (`stackAnswerReply`, `stackNotFoundReply`), built from the same description,
 * so a unit test and a process test stub a stack alike. A missing stack is what CloudFormation says:
 * ValidationError (HTTP 400) "Stack with id NAME does not exist".
 */
import type { DescribeStacksCommandOutput, Stack } from '@aws-sdk/client-cloudformation';
import { queryError, queryResponse, Reply } from '../loopback';
import { AwsError } from './aws-error';

export interface StackDescription {
  name: string;
  status?: string;
  /** Default: an ARN made from the name. */
  id?: string;
  outputs?: Record<string, string>;
  parameters?: Record<string, string>;
  /** Default: 2025-01-01T00:00:00Z. */
  created?: Date;
  /** LastUpdatedTime, when the stack has been updated. */
  updated?: Date;
  protection?: boolean;
}

const CREATED = new Date('2025-01-01T00:00:00Z');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const stackId = (s: StackDescription) => s.id ?? `arn:aws:cloudformation:us-east-1:111111111111:stack/${s.name}/00000000-0000-0000-0000-000000000000`;

/** One stack as the SDK returns it. */
export function stackOf(s: StackDescription): Stack {
  return {
    StackName: s.name,
    StackId: stackId(s),
    StackStatus: (s.status ?? 'CREATE_COMPLETE') as Stack['StackStatus'],
    CreationTime: s.created ?? CREATED,
    ...(s.updated ? { LastUpdatedTime: s.updated } : {}),
    EnableTerminationProtection: s.protection ?? false,
    ...(s.parameters ? { Parameters: Object.entries(s.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })) } : {}),
    ...(s.outputs ? { Outputs: Object.entries(s.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) } : {}),
  };
}

/** DescribeStacks' answer for one stack (aws-sdk-client-mock: `.resolves(stackAnswer({...}))`). */
export function stackAnswer(s: StackDescription): Pick<DescribeStacksCommandOutput, 'Stacks'> {
  return { Stacks: [stackOf(s)] };
}

/** What DescribeStacks throws for a stack that does not exist (`.rejects(stackNotFound(name))`). */
export function stackNotFound(name: string): AwsError {
  return new AwsError('ValidationError', `Stack with id ${name} does not exist`, 400);
}

/** One stack's <member> of a DescribeStacks awsQuery answer. */
export function stackXml(s: StackDescription): string {
  const list = (tag: string, key: string, value: string, entries?: Record<string, string>) =>
    entries ? `<${tag}>${Object.entries(entries).map(([k, v]) => `<member><${key}>${esc(k)}</${key}><${value}>${esc(v)}</${value}></member>`).join('')}</${tag}>` : '';
  return `<member><StackName>${esc(s.name)}</StackName><StackId>${esc(stackId(s))}</StackId><StackStatus>${s.status ?? 'CREATE_COMPLETE'}</StackStatus>` +
    `<CreationTime>${(s.created ?? CREATED).toISOString()}</CreationTime>${s.updated ? `<LastUpdatedTime>${s.updated.toISOString()}</LastUpdatedTime>` : ''}<EnableTerminationProtection>${s.protection ?? false}</EnableTerminationProtection>` +
    `${list('Parameters', 'ParameterKey', 'ParameterValue', s.parameters)}${list('Outputs', 'OutputKey', 'OutputValue', s.outputs)}</member>`;
}

/** DescribeStacks' awsQuery answer for one stack (loopback servers). */
/** One event as DescribeStackEvents lists it (awsQuery). */
export interface StackEventDescription {
  id: string;
  logical: string;
  /** Default: the stack's id for the stack's own events, else LOGICAL-phys. */
  physical?: string;
  type: string;
  status: string;
  reason?: string;
  token?: string;
  time: Date;
}

/** One <member> of a DescribeStackEvents awsQuery answer. */
export function stackEventXml(stack: { name: string; id: string }, e: StackEventDescription): string {
  const physical = e.physical ?? (e.type === 'AWS::CloudFormation::Stack' ? stack.id : `${e.logical}-phys`);
  return `<member><StackId>${esc(stack.id)}</StackId><EventId>${esc(e.id)}</EventId><StackName>${esc(stack.name)}</StackName><LogicalResourceId>${esc(e.logical)}</LogicalResourceId>` +
    `<PhysicalResourceId>${esc(physical)}</PhysicalResourceId><ResourceType>${e.type}</ResourceType><Timestamp>${e.time.toISOString()}</Timestamp><ResourceStatus>${e.status}</ResourceStatus>` +
    `${e.reason ? `<ResourceStatusReason>${esc(e.reason)}</ResourceStatusReason>` : ''}${e.token ? `<ClientRequestToken>${esc(e.token)}</ClientRequestToken>` : ''}</member>`;
}

export function stackAnswerReply(s: StackDescription): Reply {
  return queryResponse('DescribeStacks', `<Stacks>${stackXml(s)}</Stacks>`);
}

/** DescribeStacks' awsQuery error for a stack that does not exist. */
export function stackNotFoundReply(name: string): Reply {
  return queryError('ValidationError', `Stack with id ${esc(name)} does not exist`, 400);
}
