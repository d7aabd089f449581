/**
 * Everything in the spec (issue 22.7): a prebuilt image gets its environment from `env` with no engine
 * named, and async notifications are subscribed from the spec on the stack's own topics.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseSpec } from '../../../src/config/load';
import { render } from './flow-fixtures';
import { validateTemplate } from '../../support/cloudformation/resource-spec';
import { specProblems as problems } from '../../support/spec-problems';

const EXAMPLE = fs.readFileSync(path.resolve(__dirname, '../../../examples/async-notifications.yml'), 'utf8');


/** 1-based line of the first line containing `needle`. */
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const load = (text: string) => parseSpec(text, 'model-deploy.yml');
const asyncDeployment = (text: string) => load(text).deployments['sd-async']!;
const withNotifications = (yaml: string) => EXAMPLE.replace('      maxConcurrentInvocationsPerInstance: 10\n', `      maxConcurrentInvocationsPerInstance: 10\n${yaml}`);
type Json = Record<string, any>;
const resources = (t: Json) => t.Resources as Record<string, Json>;

describe('env: the container environment, engine or not', () => {
  it('a prebuilt image takes env with no engine named, and the model gets it', () => {
    const text = EXAMPLE.replace(/ {4}# With a prebuilt image[^\n]*\n {4}engine:\n {6}name: tgi\n {6}env:\n {8}HF_TASK: text-to-image\n/, '    env:\n      HF_TASK: text-to-image\n');
    expect(text).not.toContain('name: tgi');
    const d = asyncDeployment(text);
    expect(d.engine).toBeUndefined();
    const r = render({ deployment: d, region: 'us-east-1', environmentName: 'dev', environment: load(text).environments.dev });
    expect(resources(r.template).Model!.Properties.PrimaryContainer.Environment).toEqual(expect.objectContaining({ HF_TASK: 'text-to-image' }));
  });

  it('env wins over engine.env for the same name, and a bad name is refused at its line', () => {
    const text = EXAMPLE.replace('        HF_TASK: text-to-image\n', '        HF_TASK: text-to-image\n        A: engine\n    env:\n      A: spec\n');
    const d = asyncDeployment(text);
    const r = render({ deployment: d, region: 'us-east-1', environmentName: 'dev', environment: load(text).environments.dev });
    expect(resources(r.template).Model!.Properties.PrimaryContainer.Environment).toEqual(expect.objectContaining({ HF_TASK: 'text-to-image', A: 'spec' }));
    const badText = EXAMPLE.replace('    target: sagemaker-async\n', '    env:\n      1BAD: x\n    target: sagemaker-async\n');
    const bad = problems(badText);
    expect(bad.map((e) => [e.message, e.location?.line])).toEqual([[expect.stringContaining('"1BAD"'), lineOf(badText, '1BAD:')]]);
    expect(bad[0]?.hint).toBe('Environment variable names are letters, digits and underscores, not starting with a digit.');
  });
});

describe('async.notifications: subscriptions on the stack topics', () => {
  const SPEC = withNotifications(`      notifications:
        success: [ops@example.com, "arn:aws:sqs:us-east-1:111111111111:sd-results"]
        error: ["arn:aws:lambda:us-east-1:111111111111:function:on-failure"]
`);

  it('renders one subscription per endpoint, with the protocol its form says, on the right topic', () => {
    const d = asyncDeployment(SPEC);
    const r = render({ deployment: d, region: 'us-east-1', environmentName: 'dev', environment: load(SPEC).environments.dev });
    const subs = Object.values(resources(r.template)).filter((x) => x.Type === 'AWS::SNS::Subscription').map((x) => x.Properties);
    expect(subs).toEqual([
      { TopicArn: { Ref: 'SuccessTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' },
      { TopicArn: { Ref: 'SuccessTopic' }, Protocol: 'sqs', Endpoint: 'arn:aws:sqs:us-east-1:111111111111:sd-results', RawMessageDelivery: true },
      { TopicArn: { Ref: 'ErrorTopic' }, Protocol: 'lambda', Endpoint: 'arn:aws:lambda:us-east-1:111111111111:function:on-failure' },
    ]);
    expect(validateTemplate(r.template)).toEqual([]);
  });

  it('refuses a queue or function of another account or partition, and what is neither an email nor such an ARN, at the line', () => {
    const text = withNotifications(`      notifications:
        success: ["arn:aws:sqs:us-east-1:999999999999:theirs", "arn:aws-cn:lambda:cn-north-1:111111111111:function:f", not-an-endpoint]
`);
    const errs = problems(text);
    expect(errs.map((e) => e.message)).toEqual([
      expect.stringMatching(/async\.notifications\.success\[0\].*account 999999999999.*111111111111/),
      expect.stringMatching(/async\.notifications\.success\[1\].*partition aws-cn/),
      expect.stringMatching(/async\.notifications\.success\[2\].*"not-an-endpoint"/),
    ]);
    expect(errs[0]?.hint).toMatch(/same account/);
    for (const e of errs) expect(e.location?.line).toBe(lineOf(text, 'success: ['));
  });

  it('is only for target sagemaker-async', () => {
    const text = withNotifications('      notifications:\n        success: [ops@example.com]\n').replace('target: sagemaker-async', 'target: sagemaker-realtime').replace(/ {4}autoscaling: \{[^\n]*\n/, '');
    expect(problems(text).map((e) => e.message)).toEqual(expect.arrayContaining([expect.stringContaining('async settings are only used by target sagemaker-async')]));
  });
});
