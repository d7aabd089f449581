/**
 * Capacity fallback (issue 22.6) in the built deploy-endpoint bundle, against a loopback CloudFormation
 * (awsQuery XML) whose execution fails with SageMaker's no-capacity reason for the first type of the
 * spec's instanceType list: the bundle makes a new change set for the next type, and says which it deployed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runBundle, ROOT } from '../support/bundle';
import { jsonError, queryError, queryResponse, RecordedRequest, Reply, startLoopback } from '../support/loopback';
import { stackAnswerReply, stackEventXml, type StackEventDescription } from '../support/fake-aws/stack-answer';
import { describeImagesReply } from '../support/fake-aws/ecr-holds-images';

const ACCOUNT = '111111111111';
const STACK = 'acme-llm-qwen-chat-dev';
const STACK_ID = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${STACK}/1`;
const ENDPOINT = 'acme-llm-qwen-chat-dev';
const NO_CAPACITY = 'Resource handler returned message: "Endpoint arn:aws:sagemaker:us-east-1:111111111111:endpoint/acme-llm-qwen-chat-dev is in Failed state. Reason: Unable to provision requested ML compute capacity. Please retry using a different ML instance type."';

/** Events of the one stack, at 12:00:SECOND on 2025-01-01. */
function xmlEvent(e: Omit<StackEventDescription, 'time'> & { second: number }): string {
  return stackEventXml({ name: STACK, id: STACK_ID }, { ...e, time: new Date(Date.UTC(2025, 0, 1, 12, 0, e.second)) });
}

/** CloudFormation, STS, Service Quotas and SageMaker; executions of a change set for `noCapacity` fail. */
function awsWorld(noCapacity: string) {
  let status = 'UPDATE_COMPLETE';
  const typeOf = new Map<string, string>();
  let events: Parameters<typeof xmlEvent>[0][] = [];
  let second = 0;
  const json = (body: object): Reply => ({ headers: { 'content-type': 'application/x-amz-json-1.1' }, body });
  return (req: RecordedRequest): Reply | undefined => {
    const p = req.params as Record<string, string>;
    switch (req.operation) {
      // The preflight looks the image (a tag) up in ECR: it is there.
      case 'DescribeImages':
        return describeImagesReply(req.params as Record<string, unknown>);
      case 'GetCallerIdentity':
        return queryResponse('GetCallerIdentity', `<Arn>arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gh</Arn><UserId>AROA:gh</UserId><Account>${ACCOUNT}</Account>`, 'https://sts.amazonaws.com/doc/2011-06-15/');
      case 'DescribeStacks':
        return stackAnswerReply({ name: STACK, id: STACK_ID, status, outputs: { EndpointName: ENDPOINT, EndpointConfigName: 'cfg-new', EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}` } });
      case 'CreateChangeSet': {
        const key = Object.entries(p).find(([k, v]) => /^Parameters\.member\.\d+\.ParameterKey$/.test(k) && v === 'InstanceType')?.[0];
        typeOf.set(p.ChangeSetName, key ? p[key.replace('ParameterKey', 'ParameterValue')] ?? '' : '');
        return queryResponse('CreateChangeSet', `<Id>arn:cs/${p.ChangeSetName}</Id><StackId>${STACK_ID}</StackId>`);
      }
      case 'DescribeChangeSet': {
        const name = p.ChangeSetName.replace('arn:cs/', '');
        if (!typeOf.has(name)) return queryError('ChangeSetNotFound', `ChangeSet [${name}] does not exist`, 404);
        return queryResponse('DescribeChangeSet', `<ChangeSetName>${name}</ChangeSetName><ChangeSetId>arn:cs/${name}</ChangeSetId><StackId>${STACK_ID}</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>` +
          '<Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>EndpointConfig</LogicalResourceId><ResourceType>AWS::SageMaker::EndpointConfig</ResourceType><Replacement>True</Replacement></ResourceChange></member></Changes>');
      }
      case 'ExecuteChangeSet': {
        const token = p.ClientRequestToken;
        const failed = typeOf.get(p.ChangeSetName.replace('arn:cs/', '')) === noCapacity;
        status = failed ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_COMPLETE';
        const at = (n: number) => (second += n);
        events = [
          ...events,
          { id: `e${at(1)}`, logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_IN_PROGRESS', token, second },
          ...(failed
            ? [
                { id: `e${at(1)}`, logical: 'Endpoint', type: 'AWS::SageMaker::Endpoint', status: 'UPDATE_FAILED', reason: NO_CAPACITY, token, second },
                { id: `e${at(1)}`, logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_ROLLBACK_COMPLETE', token, second },
              ]
            : [{ id: `e${at(1)}`, logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_COMPLETE', token, second }]),
        ];
        return queryResponse('ExecuteChangeSet', '');
      }
      case 'DescribeStackEvents':
        return queryResponse('DescribeStackEvents', `<StackEvents>${[...events].reverse().map(xmlEvent).join('')}</StackEvents>`);
      case 'ListServiceQuotas':
        return json({ Quotas: ['ml.g5.2xlarge', 'ml.g5.4xlarge'].map((t, i) => ({ QuotaName: `${t} for endpoint usage`, QuotaCode: `L-000${i}`, Value: 4, Adjustable: true })) });
      case 'ListEndpoints':
        return json({ Endpoints: [] });
      case 'DescribeEndpoint':
        return json({ EndpointName: ENDPOINT, EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}`, EndpointConfigName: 'cfg-new', EndpointStatus: 'InService', CreationTime: 1735689600, LastModifiedTime: 1735689600 });
      default:
        break;
    }
    if (req.headers['x-amz-target']) return jsonError('UnhandledInTest', `no reply for ${req.call}`);
    return undefined;
  };
}

describe('deploy-endpoint bundle: capacity fallback', () => {
  it('no capacity for ml.g5.2xlarge: a new change set for ml.g5.4xlarge, deployed, and the summary says so', async () => {
    const aws = await startLoopback(awsWorld('ml.g5.2xlarge'));
    try {
      const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'md-capacity-ws-'));
      const spec = fs.readFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), 'utf8').replace('instanceType: ml.g5.2xlarge', 'instanceType: [ml.g5.2xlarge, ml.g5.4xlarge]');
      fs.writeFileSync(path.join(workspace, 'model-deploy.yml'), spec);
      const run = await runBundle('deploy-endpoint', {
        workspace,
        awsEndpoint: aws.url,
        inputs: {
          deployment: 'qwen-chat',
          environment: 'dev',
          'image-uri': `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:0123456`,
          'model-data-url': `s3://model-deploy-${ACCOUNT}-us-east-1/models/qwen-chat/`,
          'smoke-test': 'false',
        },
      });
      expect(run.code).toBe(0);
      const creates = aws.requests.filter((r) => r.operation === 'CreateChangeSet').map((r) => (r.params as Record<string, string>).ChangeSetName);
      expect(creates).toEqual(['md-0123456', 'md-0123456-ml-g5-4xlarge']);
      expect(aws.calls().filter((c) => c === 'ExecuteChangeSet')).toHaveLength(2);
      expect(run.stdout).toMatch(/::warning title=Capacity fallback,file=model-deploy.yml,line=\d+::No capacity for ml.g5.2xlarge in us-east-1 .*trying ml.g5.4xlarge/);
      expect(run.summary).toContain('AWS had no capacity for ml.g5.2xlarge in us-east-1; deployed on ml.g5.4xlarge.');
      expect(run.outputs['change-set-id']).toBe('arn:cs/md-0123456-ml-g5-4xlarge');
    } finally {
      await aws.close();
    }
  });
});
