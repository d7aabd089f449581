/**
 * The built deploy-endpoint bundle against loopback servers playing CloudFormation (awsQuery XML),
 * STS, Service Quotas and SageMaker (awsJson), the SageMaker runtime and S3 (REST), and the GitHub API.
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
const GITHUB_TOKEN = 'ghs_loopbackToken0123456789abcdef';

interface Scenario {
  empty?: boolean;
  fail?: boolean;
}

/** Events of the one stack, at 12:00:SECOND on 2025-01-01. */
function xmlEvent(e: Omit<StackEventDescription, 'time'> & { second: number }): string {
  return stackEventXml({ name: STACK, id: STACK_ID }, { ...e, time: new Date(Date.UTC(2025, 0, 1, 12, 0, e.second)) });
}

function awsWorld(s: Scenario) {
  let status = 'UPDATE_COMPLETE';
  let created = false;
  let token = '';
  return (req: RecordedRequest): Reply | undefined => {
    const p = req.params as Record<string, string>;
    switch (req.operation) {
      // The preflight looks the image (a tag) up in ECR: it is there.
      case 'DescribeImages':
        return describeImagesReply(req.params as Record<string, unknown>);
      case 'GetCallerIdentity':
        return queryResponse('GetCallerIdentity', `<Arn>arn:aws:sts::${ACCOUNT}:assumed-role/deploy/gh</Arn><UserId>AROA:gh</UserId><Account>${ACCOUNT}</Account>`, 'https://sts.amazonaws.com/doc/2011-06-15/');
      case 'DescribeStacks':
        return stackAnswerReply({
          name: STACK, id: STACK_ID, status,
          outputs: { EndpointName: ENDPOINT, EndpointConfigName: 'cfg-new', EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}` },
        });
      case 'DescribeChangeSet':
        if (!created) return queryError('ChangeSetNotFound', `ChangeSet [${p.ChangeSetName}] does not exist`, 404);
        return queryResponse('DescribeChangeSet', s.empty
          ? `<ChangeSetName>md-0123456</ChangeSetName><ChangeSetId>arn:cs/md-0123456</ChangeSetId><StackId>${STACK_ID}</StackId><Status>FAILED</Status><ExecutionStatus>UNAVAILABLE</ExecutionStatus><StatusReason>The submitted information didn't contain changes. Submit different information to create a change set.</StatusReason>`
          : `<ChangeSetName>md-0123456</ChangeSetName><ChangeSetId>arn:cs/md-0123456</ChangeSetId><StackId>${STACK_ID}</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>` +
            `<Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>EndpointConfig</LogicalResourceId><ResourceType>AWS::SageMaker::EndpointConfig</ResourceType><Replacement>True</Replacement></ResourceChange></member>` +
            `<member><Type>Resource</Type><ResourceChange><Action>Modify</Action><LogicalResourceId>Endpoint</LogicalResourceId><ResourceType>AWS::SageMaker::Endpoint</ResourceType><Replacement>False</Replacement></ResourceChange></member></Changes>`);
      case 'CreateChangeSet':
        created = true;
        return queryResponse('CreateChangeSet', `<Id>arn:cs/md-0123456</Id><StackId>${STACK_ID}</StackId>`);
      case 'DeleteChangeSet':
        return queryResponse('DeleteChangeSet', '');
      case 'ExecuteChangeSet':
        token = p.ClientRequestToken;
        status = s.fail ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_COMPLETE';
        return queryResponse('ExecuteChangeSet', '');
      case 'DescribeStackEvents': {
        const events = s.fail
          ? [
              { id: 'e1', logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_IN_PROGRESS', token, second: 1 },
              { id: 'e2', logical: 'Endpoint', type: 'AWS::SageMaker::Endpoint', status: 'UPDATE_FAILED', reason: 'The primary container for production variant AllTraffic did not pass the ping health check.', token, second: 2 },
              { id: 'e3', logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_ROLLBACK_IN_PROGRESS', reason: 'The following resource(s) failed to update: [Endpoint].', token, second: 3 },
              { id: 'e4', logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_ROLLBACK_COMPLETE', token, second: 4 },
            ]
          : [
              { id: 'e1', logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_IN_PROGRESS', token, second: 1 },
              { id: 'e2', logical: 'EndpointConfig', type: 'AWS::SageMaker::EndpointConfig', status: 'CREATE_COMPLETE', token, second: 2 },
              { id: 'e3', logical: STACK, type: 'AWS::CloudFormation::Stack', status: 'UPDATE_COMPLETE', token, second: 3 },
            ];
        return queryResponse('DescribeStackEvents', `<StackEvents>${events.reverse().map(xmlEvent).join('')}</StackEvents>`);
      }
      case 'UpdateTerminationProtection':
        return queryResponse('UpdateTerminationProtection', `<StackId>${STACK_ID}</StackId>`);
      case 'ListServiceQuotas':
        return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: { Quotas: [{ QuotaName: 'ml.g5.2xlarge for endpoint usage', QuotaCode: 'L-2222', Value: 4, Adjustable: true }] } };
      case 'ListEndpoints':
        // Only this deployment's own endpoint: the quota's usage by others is 0.
        return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: { Endpoints: [{ EndpointName: ENDPOINT, EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}`, EndpointStatus: 'InService', CreationTime: 1735689600, LastModifiedTime: 1735689600 }] } };
      case 'DescribeEndpoint':
        return {
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: { EndpointName: ENDPOINT, EndpointArn: `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}`, EndpointConfigName: 'cfg-new', EndpointStatus: 'InService', CreationTime: 1735689600, LastModifiedTime: 1735689600 },
        };
      default:
        break;
    }
    if (req.method === 'POST' && req.path === `/endpoints/${ENDPOINT}/invocations`) {
      return { headers: { 'content-type': 'application/json' }, body: { choices: [{ message: { content: 'Hello' } }] } };
    }
    if (req.method === 'PUT' && req.path.startsWith(`/model-deploy-${ACCOUNT}-us-east-1/templates/`)) return { headers: { etag: '"1"' }, body: '' };
    if (req.headers['x-amz-target']) return jsonError('UnhandledInTest', `no reply for ${req.call}`);
    return undefined;
  };
}

function githubWorld() {
  return (req: RecordedRequest): Reply | undefined => {
    if (req.method === 'POST' && req.path === '/repos/acme/models/deployments') return { status: 201, body: { id: 99, environment: (req.params as { environment: string }).environment } };
    if (req.method === 'POST' && req.path === '/repos/acme/models/deployments/99/statuses') return { status: 201, body: { id: 1, state: (req.params as { state: string }).state } };
    return undefined;
  };
}

async function deploy(s: Scenario, inputs: Record<string, string> = {}) {
  const aws = await startLoopback(awsWorld(s));
  const github = await startLoopback(githubWorld());
  try {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'md-deploy-ws-'));
    fs.copyFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), path.join(workspace, 'model-deploy.yml'));
    const run = await runBundle('deploy-endpoint', {
      workspace,
      awsEndpoint: aws.url,
      githubApi: github.url,
      inputs: {
        deployment: 'qwen-chat',
        environment: 'dev',
        'image-uri': `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:0123456`,
        'model-data-url': `s3://model-deploy-${ACCOUNT}-us-east-1/models/qwen-chat/`,
        'github-token': GITHUB_TOKEN,
        ...inputs,
      },
    });
    return { run, aws, github };
  } finally {
    await aws.close();
    await github.close();
  }
}

/** Every output except the runner's own ::add-mask:: commands, which are how masking happens. */
function noSecrets(all: string) {
  const written = all.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
  expect(all).toContain(`::add-mask::${GITHUB_TOKEN}`);
  expect(written).not.toContain(GITHUB_TOKEN);
  expect(written).not.toContain('loopback-secret-access-key');
}

describe('deploy-endpoint bundle', () => {
  it('happy path: change set, execute, events, endpoint verified, smoke test, outputs, GitHub deployment', async () => {
    const { run, aws, github } = await deploy({});
    expect(run.code).toBe(0);
    const calls = aws.calls();
    // Quotas before anything mutates; the stack read once before the change set.
    expect(calls.indexOf('ListServiceQuotas')).toBeLessThan(calls.indexOf('CreateChangeSet'));
    expect(calls.indexOf('ListEndpoints')).toBeLessThan(calls.indexOf('CreateChangeSet'));
    expect(calls.slice(0, calls.indexOf('CreateChangeSet')).filter((c) => c === 'DescribeStacks')).toHaveLength(1);
    expect(calls).toEqual(expect.arrayContaining(['GetCallerIdentity', 'CreateChangeSet', 'ExecuteChangeSet', 'DescribeStackEvents', 'DescribeEndpoint']));
    const create = aws.requests.find((r) => r.operation === 'CreateChangeSet')!.params as Record<string, string>;
    expect(create).toMatchObject({ StackName: STACK, ChangeSetName: 'md-0123456', ChangeSetType: 'UPDATE' });
    expect(aws.requests.some((r) => r.path === `/endpoints/${ENDPOINT}/invocations`)).toBe(true);
    expect(run.outputs).toMatchObject({
      'stack-name': STACK, 'stack-id': STACK_ID, 'endpoint-name': ENDPOINT, 'has-changes': 'true', 'change-set-id': 'arn:cs/md-0123456',
      'endpoint-arn': `arn:aws:sagemaker:us-east-1:${ACCOUNT}:endpoint/${ENDPOINT}`,
    });
    expect(run.outputs['endpoint-url']).toBe(`https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/${ENDPOINT}/invocations`);
    expect(JSON.parse(run.outputs.outputs)).toMatchObject({ EndpointConfigName: 'cfg-new' });
    expect(run.outputs['changes-markdown']).toContain('🔴 Replace <code>EndpointConfig</code>');
    expect(run.stdout).toMatch(/UPDATE_COMPLETE\s+EndpointConfig|CREATE_COMPLETE\s+EndpointConfig/);
    expect(run.summary).toContain('## deploy-endpoint: qwen-chat → dev (us-east-1)');
    const statuses = github.requests.filter((r) => r.path.endsWith('/statuses')).map((r) => r.params as Record<string, string>);
    expect(statuses.map((x) => x.state)).toEqual(['in_progress', 'success']);
    expect(statuses[1].environment_url).toBe(run.outputs['endpoint-url']);
    expect(github.requests[0].headers.authorization).toBe(`token ${GITHUB_TOKEN}`);
    noSecrets(run.all);
  });

  it('empty change set: success, no execution, has-changes false', async () => {
    const { run, aws } = await deploy({ empty: true });
    expect(run.code).toBe(0);
    expect(aws.calls()).not.toContain('ExecuteChangeSet');
    expect(aws.calls()).toContain('DeleteChangeSet');
    expect(run.outputs['has-changes']).toBe('false');
    expect(run.stdout).toMatch(/::notice title=Nothing to deploy::No changes: stack acme-llm-qwen-chat-dev/);
    noSecrets(run.all);
  });

  it('failed deploy: exit 1, the first failure event as the annotation, the previous version keeps serving', async () => {
    const { run, aws, github } = await deploy({ fail: true });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error title=Deploy failed%3A Endpoint UPDATE_FAILED,file=model-deploy.yml,line=\d+.*::.*Endpoint \(AWS::SageMaker::Endpoint\) UPDATE_FAILED: The primary container for production variant AllTraffic did not pass the ping health check\./);
    expect(run.stdout).toContain('raise healthCheck.startupTimeoutSeconds');
    expect(run.stdout).toContain('the previous version keeps serving');
    expect(aws.calls()).not.toContain('DescribeEndpoint');
    const states = github.requests.filter((r) => r.path.endsWith('/statuses')).map((r) => (r.params as Record<string, string>).state);
    expect(states).toEqual(['in_progress', 'failure']);
    noSecrets(run.all);
  });

  it('an unwired image-uri stops the run before any mutation, naming the step output to wire', async () => {
    const { run, aws } = await deploy({}, { 'image-uri': '' });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/::error title=Unresolved input::.*image-uri is empty/);
    expect(run.all).toContain('image-uri: ${{ steps.build.outputs.image-uri }}');
    const calls = aws.calls();
    expect(calls.filter((c) => /^(Create|Execute|Delete)|PutObject/.test(c))).toEqual([]);
  });

  it('image-uris and model-data-urls: the region they name is deployed from them; a region outside the target stops the run before any AWS call', async () => {
    const image = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat:promoted`;
    const weights = `s3://model-deploy-${ACCOUNT}-us-east-1/models/qwen-chat/promoted/`;
    const { run, aws } = await deploy({}, { 'image-uris': JSON.stringify({ 'us-east-1': image }), 'model-data-urls': JSON.stringify({ 'us-east-1': weights }) });
    expect(run.code).toBe(0);
    const create = aws.requests.find((r) => r.operation === 'CreateChangeSet')!.params as Record<string, string>;
    const param = (key: string) => Object.entries(create).find(([k, v]) => /^Parameters\.member\.\d+\.ParameterKey$/.test(k) && v === key)?.[0].replace('ParameterKey', 'ParameterValue');
    expect(create[param('ImageUri')!]).toBe(image);
    expect(create[param('ModelDataUrl')!]).toBe(weights);

    const wrong = await deploy({}, { 'image-uris': JSON.stringify({ 'eu-west-1': image }) });
    expect(wrong.run.code).toBe(1);
    expect(wrong.run.all).toMatch(/::error title=Invalid input::image-uris names eu-west-1, which is not a region of qwen-chat in dev \(us-east-1\)/);
    expect(wrong.aws.calls()).toEqual([]);
  });
});
