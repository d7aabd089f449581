/**
 * What deploy-endpoint says before its first wait: console links to what it creates and watches (stack,
 * endpoint, logs) in each region, in the log and the step summary, and how long it will wait for the stack.
 */
import type { Target } from '../config/select';
import { ConsoleLink, linksMarkdown, logGroupLink, logGroupsLink, sageMakerEndpointLink, stackLink } from '../core/console-links';
import type { Reporter } from '../core/log';
import { budgetLine, deployTimeoutMinutes, healthBudget } from './budgets';
import { modelData } from './render';

export interface DeployStartRequest {
  /** build-model's model-data-url, when given: where the weights load from. */
  modelDataUrl?: string;
  /** timeout-minutes, when given: it wins over the derived wait. */
  timeoutMinutes?: number;
}

/** The console pages of one region's deployment. */
export function deployConsoleLinks(target: Target, region: string): ConsoleLink[] {
  const d = target.deployment;
  const { stack, endpoint } = target.names;
  if (d.target === 'sagemaker-realtime' || d.target === 'sagemaker-async') {
    return [stackLink(region, stack), sageMakerEndpointLink(region, endpoint), logGroupLink(region, `/aws/sagemaker/Endpoints/${endpoint}`)];
  }
  // ec2 and ecs log groups get generated names, which begin with the stack's.
  return [stackLink(region, stack), logGroupsLink(region, stack)];
}

/** Logs and summarises the links, and returns the minutes to wait for the stack (given, else derived). */
export async function announceDeploy(target: Target, request: DeployStartRequest, reporter: Reporter): Promise<number> {
  const d = target.deployment;
  const path = modelData(d, request.modelDataUrl).mode;
  const minutes = request.timeoutMinutes ?? deployTimeoutMinutes(d, path);
  const budgets = budgetLine(healthBudget(d, path));
  const why = request.timeoutMinutes !== undefined ? 'timeout-minutes' : "derived from the model's size and load path; set timeout-minutes to change it";
  const sections: string[] = [];
  for (const region of target.regions) {
    const links = deployConsoleLinks(target, region);
    for (const l of links) reporter.info(`${l.label} (${region}): ${l.url}`);
    sections.push(`**${region}**\n\n${linksMarkdown(links)}\n`);
  }
  reporter.info(`Waiting at most ${minutes} min for the stack (${why}); ${budgets}.`);
  await reporter.summary(`### deploy-endpoint: ${d.name} in the AWS console\n\n${sections.join('\n')}\nWaits at most ${minutes} min for the stack (${why}); ${budgets}.\n`);
  return minutes;
}
