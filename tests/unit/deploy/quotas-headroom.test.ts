/**
 * Quota at the autoscaling maximum, before merge (issue 22.5): estimate-cost with check-quotas reads
 * the applied quota (Service Quotas, answered as the API does) and sets it against the maximum of every
 * deployment using it, twice on SageMaker during blue/green; a fork's pull request says not checked.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mockClient } from 'aws-sdk-client-mock';
import { ListAWSDefaultServiceQuotasCommand, ListServiceQuotasCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { CostRequest, estimateCost } from '../../../src/cost/flow';
import { FORK_NOT_CHECKED } from '../../../src/cost/quota-notes';

const sq = mockClient(ServiceQuotasClient);
const REVISION = '0123456789abcdef0123456789abcdef01234567';

const deployment = (name: string, max: number) => `  ${name}:
    model: { huggingface: { id: org/model, revision: "${REVISION}" }, sizeGb: 10 }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    autoscaling: { min: 1, max: ${max} }
    regions: [us-east-1]
    usage: { imageSizeGb: 10 }
`;

/** A ListServiceQuotas page as the API returns it. */
const quota = (name: string, value: number) => ({ ServiceCode: 'sagemaker', ServiceName: 'Amazon SageMaker', QuotaArn: `arn:aws:servicequotas:us-east-1:111111111111:sagemaker/L-1A2B3C4D`, QuotaCode: 'L-1A2B3C4D', QuotaName: name, Value: value, Unit: 'None', Adjustable: true, GlobalQuota: false });

function run(event: object | undefined, more: Partial<CostRequest> = {}) {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-headroom-'));
  fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), `version: 1\nproject: acme\ndeployments:\n${deployment('chat', 3)}${deployment('summarise', 2)}`);
  const env: Record<string, string> = { GITHUB_REPOSITORY: 'acme/models' };
  if (event) {
    env.GITHUB_EVENT_PATH = path.join(workspace, 'event.json');
    fs.writeFileSync(env.GITHUB_EVENT_PATH, JSON.stringify(event));
  }
  const reporter = memoryReporter();
  const request: CostRequest = { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', checkQuotas: true, ...more };
  return { reporter, result: estimateCost({ workspace, config: 'model-deploy.yml' }, request, { reporter, env: new EnvInputs(env) }) };
}

const samePr = { pull_request: { number: 7, head: { sha: 'a'.repeat(40), repo: { full_name: 'acme/models', fork: false } }, base: { sha: 'b'.repeat(40) } } };
const forkPr = { pull_request: { number: 8, head: { sha: 'a'.repeat(40), repo: { full_name: 'someone/models', fork: true } }, base: { sha: 'b'.repeat(40) } } };

beforeEach(() => sq.reset());

describe('estimate-cost check-quotas: the applied quota against every deployment at its maximum', () => {
  it('short at the maximum: both deployments summed, twice for blue/green, the shortfall and the request command', async () => {
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [quota('ml.g5.xlarge for endpoint usage', 8), quota('ml.g5.2xlarge for endpoint usage', 4)] });
    const { reporter, result } = run(samePr, { baseConfig: undefined });
    const { report, summary } = await result;
    const line = report.priceNotes.find((n) => n.startsWith('Quota'));
    expect(line).toBe(
      'Quota "ml.g5.2xlarge for endpoint usage" in us-east-1: 4 applied, needed at the autoscaling maximum 10 instances (chat 6, summarise 4; SageMaker counts twice while a blue/green update runs both fleets): short by 6. ' +
        'Request more before merging: aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code L-1A2B3C4D --desired-value 10 --region us-east-1',
    );
    expect(summary).toContain('short by 6');
    expect(reporter.captured.annotations).toContainEqual(expect.objectContaining({ level: 'warning', title: 'Quota short at the autoscaling maximum' }));
    expect(sq.commandCalls(ListServiceQuotasCommand)[0]?.args[0].input).toMatchObject({ ServiceCode: 'sagemaker' });
  });

  it('enough: the headroom; a type never requested is found among the AWS defaults', async () => {
    sq.on(ListServiceQuotasCommand).resolves({ Quotas: [] });
    sq.on(ListAWSDefaultServiceQuotasCommand).resolves({ Quotas: [quota('ml.g5.2xlarge for endpoint usage', 12)] });
    const { report } = await run(samePr).result;
    expect(report.priceNotes).toContainEqual(expect.stringMatching(/^Quota "ml.g5.2xlarge for endpoint usage" in us-east-1: 12 applied, needed at the autoscaling maximum 10 instances .*: headroom 2\.$/));
  });

  it('a pull request from a fork: not checked, and no AWS call', async () => {
    const { report } = await run(forkPr).result;
    expect(report.priceNotes).toContain(FORK_NOT_CHECKED);
    expect(sq.calls()).toHaveLength(0);
  });

  it('an identity that may not read quotas: not checked, with the need still shown', async () => {
    sq.on(ListServiceQuotasCommand).rejects(Object.assign(new Error('User is not authorized to perform servicequotas:ListServiceQuotas'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }));
    const { report } = await run(samePr).result;
    expect(report.priceNotes).toContainEqual('Quota "ml.g5.2xlarge for endpoint usage" in us-east-1: not checked (AccessDeniedException); needed at the autoscaling maximum: 10 instances (chat 6, summarise 4).');
  });

  it('not asked: no quota line and no AWS call', async () => {
    const { report } = await run(samePr, { checkQuotas: false }).result;
    expect(report.priceNotes.some((n) => n.startsWith('Quota'))).toBe(false);
    expect(sq.calls()).toHaveLength(0);
  });
});
