import { memoryReporter } from '../../../src/core/log';
import { announceDeploy } from '../../../src/deploy/start-notice';
import * as path from 'path';
import { loadSpec } from '../../../src/config/load';
import { targetOf } from '../../../src/config/select';
import { exampleTarget, ROOT } from '../../support/target';

const CHINA_SPEC = path.join(ROOT, 'examples', 'china.yml');

describe('the start of a deploy', () => {
  it('links the stack, the endpoint and its log group in the log and the summary, in the China console for a China region', async () => {
    const target = targetOf(loadSpec(CHINA_SPEC), CHINA_SPEC, { deployment: 'qwen-chat', environment: 'cn-prod' });
    const reporter = memoryReporter();
    await announceDeploy(target, {}, reporter);
    const text = reporter.allText();
    expect(target.regions).toEqual(['cn-north-1']);
    expect(text).toContain(`https://console.amazonaws.cn/cloudformation/home?region=cn-north-1#/stacks/stackinfo?stackId=${target.names.stack}`);
    expect(text).toContain(`https://console.amazonaws.cn/sagemaker/home?region=cn-north-1#/endpoints/${target.names.endpoint}`);
    expect(text).toContain(`#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FEndpoints$252F${target.names.endpoint}`);
    expect(reporter.captured.summaries.join('\n')).toContain(`[SageMaker endpoint ${target.names.endpoint}](https://console.amazonaws.cn/sagemaker/`);
    expect(text).not.toContain('console.aws.amazon.com');
  });

  it('waits for the stack as long as the budgets say, unless timeout-minutes is given', async () => {
    const target = exampleTarget('qwen-chat', 'dev');
    const big = exampleTarget('qwen-chat', 'dev', (t) => t.replace('sizeGb: 15.2', 'sizeGb: 140'));
    const derived = await announceDeploy(target, {}, memoryReporter());
    expect(await announceDeploy(big, {}, memoryReporter())).toBeGreaterThan(derived);
    const reporter = memoryReporter();
    expect(await announceDeploy(target, { timeoutMinutes: 45 }, reporter)).toBe(45);
    expect(reporter.allText()).toContain('Waiting at most 45 min for the stack (timeout-minutes); wait budgets: model download 272 s (derived from 15 GB');
  });
});
