/**
 * AWS console links for what a run creates or waits on, right for the region's partition (China's
 * console is console.amazonaws.cn, GovCloud's console.amazonaws-us-gov.com) and region.
 */
import { partitionOf, Partition } from './aws';

export interface ConsoleLink {
  /** What it opens ("CloudFormation stack acme-chat-dev"). */
  label: string;
  url: string;
}

const CONSOLE_HOST: Record<Partition, string> = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
};

/** The console page of a service in a region; `fragment` is the part after # (the console's own router). */
function consoleUrl(region: string, service: string, fragment: string): string {
  return `https://${CONSOLE_HOST[partitionOf(region)]}/${service}/home?region=${encodeURIComponent(region)}#${fragment}`;
}

/**
 * A value in CloudWatch's fragment: percent-encoded twice, with $ for % ("/" is $252F); the fragment's own
 * separators are encoded once ("?" is $3F, "=" is $3D).
 */
function cloudWatchEscape(text: string): string {
  return encodeURIComponent(text).replace(/%/g, '$25');
}

/** A stack by name or id (the id survives a delete and re-create; the name finds the current one). */
export function stackLink(region: string, stack: string): ConsoleLink {
  return { label: `CloudFormation stack ${stack}`, url: consoleUrl(region, 'cloudformation', `/stacks/stackinfo?stackId=${encodeURIComponent(stack)}`) };
}

export function sageMakerEndpointLink(region: string, endpointName: string): ConsoleLink {
  return { label: `SageMaker endpoint ${endpointName}`, url: consoleUrl(region, 'sagemaker', `/endpoints/${encodeURIComponent(endpointName)}`) };
}

/** One log group by its exact name. */
export function logGroupLink(region: string, logGroupName: string): ConsoleLink {
  return { label: `Log group ${logGroupName}`, url: consoleUrl(region, 'cloudwatch', `logsV2:log-groups/log-group/${cloudWatchEscape(logGroupName)}`) };
}

/** The log groups whose names contain `text` (a stack's generated log group names start with the stack name). */
export function logGroupsLink(region: string, text: string): ConsoleLink {
  return { label: `Log groups of ${text}`, url: consoleUrl(region, 'cloudwatch', `logsV2:log-groups$3FlogGroupNameFilter$3D${cloudWatchEscape(text)}`) };
}

/** A CodeBuild build by its id (PROJECT:UUID). */
export function codeBuildLink(region: string, buildId: string): ConsoleLink {
  const project = buildId.slice(0, buildId.indexOf(':'));
  const url = `https://${CONSOLE_HOST[partitionOf(region)]}/codesuite/codebuild/projects/${encodeURIComponent(project)}/build/${encodeURIComponent(buildId)}/log?region=${encodeURIComponent(region)}`;
  return { label: `CodeBuild build ${buildId}`, url };
}

/** Markdown list for a step summary. */
export function linksMarkdown(links: ConsoleLink[]): string {
  return links.map((l) => `- [${l.label}](${l.url})`).join('\n');
}
