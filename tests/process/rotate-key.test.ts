/** The built rotate-key bundle against a loopback server playing Secrets Manager, CloudFormation, ECS and the endpoint. */
import * as fs from 'fs';
import * as path from 'path';
import { runBundle, ROOT } from '../support/bundle';
import { jsonError, queryResponse, RecordedRequest, Reply, startLoopback } from '../support/loopback';
import { apiKeySecretName, ownershipTags } from '../../src/config/names';
import { loadSpec } from '../../src/config/load';
import { AwsError, FakeSecrets, startEndpoint } from '../support/fake-aws/secrets-manager';
import { stackAnswerReply } from '../support/fake-aws/stack-answer';

const EXAMPLE = path.join(ROOT, 'examples', 'model-deploy.yml');
const d = loadSpec(EXAMPLE).deployments['code-assistant'];
const SERVICE = 'arn:aws:ecs:us-east-1:111111111111:service/acme-cluster/code-assistant';

function awsJson(body: unknown): Reply {
  const text = JSON.stringify(body, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    return original instanceof Date ? original.getTime() / 1000 : value;
  });
  return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: text };
}

function aws(fake: FakeSecrets, endpointUrl: string) {
  return (req: RecordedRequest): Reply | undefined => {
    const target = String(req.headers['x-amz-target'] ?? '');
    try {
      if (target.startsWith('secretsmanager.')) return awsJson(fake.handle(req.operation, req.params));
    } catch (err) {
      if (err instanceof AwsError) return jsonError(err.name, err.message, err.status);
      throw err;
    }
    if (req.operation === 'UpdateService') {
      fake.reload();
      return awsJson({ service: { deployments: [{ id: `ecs-svc/${fake.reloads}`, status: 'PRIMARY' }] } });
    }
    if (req.operation === 'DescribeServices') {
      return awsJson({ services: [{ deployments: [{ id: `ecs-svc/${fake.reloads}`, status: 'PRIMARY', rolloutState: 'COMPLETED', runningCount: 1, desiredCount: 1 }] }] });
    }
    if (req.operation === 'DescribeStacks') {
      return stackAnswerReply({ name: 'acme-llm-code-assistant-dev', id: 'arn:aws:cloudformation:us-east-1:111111111111:stack/x/1', status: 'UPDATE_COMPLETE', outputs: { EndpointUrl: endpointUrl } });
    }
    if (req.operation === 'DescribeStackResources') {
      return queryResponse(
        'DescribeStackResources',
        `<StackResources><member><LogicalResourceId>Service</LogicalResourceId><PhysicalResourceId>${SERVICE}</PhysicalResourceId><ResourceType>AWS::ECS::Service</ResourceType><Timestamp>2025-01-01T00:00:00Z</Timestamp><ResourceStatus>UPDATE_COMPLETE</ResourceStatus></member></StackResources>`,
      );
    }
    return undefined;
  };
}

function workspace(): string {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'md-rk-ws-'));
  fs.copyFileSync(EXAMPLE, path.join(dir, 'model-deploy.yml'));
  return dir;
}

const inputs = { deployment: 'code-assistant', environment: 'dev', region: 'us-east-1', config: 'model-deploy.yml' };

describe('rotate-key bundle', () => {
  test('rotates on ECS with the full protocol and prints no key', async () => {
    const fake = new FakeSecrets();
    const v = fake.create(apiKeySecretName(d, 'dev'), ownershipTags(d, 'dev'), undefined, new Date(Date.now() - 72 * 3600_000));
    v.stages.push('MD_SERVE_A', 'MD_SERVE_B');
    fake.reload();
    const endpoint = await startEndpoint(fake);
    const loop = await startLoopback(aws(fake, endpoint.url));
    try {
      const run = await runBundle('rotate-key', { inputs, awsEndpoint: loop.url, workspace: workspace(), env: { NODE_EXTRA_CA_CERTS: endpoint.caFile } });
      expect(run.stderr).not.toMatch(/UnhandledInTest/);
      expect(run.code).toBe(0);
      const current = fake.label('AWSCURRENT')!;
      expect(run.outputs).toEqual({ 'secret-arn': fake.arn, 'version-id': current.id, rotated: 'true', created: 'false' });
      const mutations = loop.requests
        .filter((r) => /PutSecretValue|UpdateSecretVersionStage|UpdateService|GetRandomPassword/.test(r.operation))
        .map((r) => (r.operation === 'UpdateSecretVersionStage' ? `${r.operation}:${r.params.VersionStage}` : r.operation));
      expect(mutations).toEqual([
        'GetRandomPassword',
        'PutSecretValue',
        'UpdateSecretVersionStage:MD_SERVE_B',
        'UpdateService',
        'UpdateSecretVersionStage:AWSCURRENT',
        'UpdateSecretVersionStage:AWSPENDING',
      ]);
      expect(endpoint.answered).toEqual([200, 200, 401, 200, 200, 401]);
      expect(fake.label('AWSPREVIOUS')!.id).toBe(v.id);
      expect(fake.label('MD_SERVE_A')!.id).toBe(v.id);
      expect(run.summary).toContain(current.id);
      // Masked as soon as read or made, and never written anywhere.
      const masks = [...run.stdout.matchAll(/::add-mask::(.+)/g)].map((m) => m[1]);
      expect(masks).toEqual(expect.arrayContaining(fake.keys));
      const withoutMasks = run.all.replace(/::add-mask::.+/g, '');
      for (const key of fake.keys) expect(withoutMasks).not.toContain(key);
    } finally {
      await loop.close();
      await endpoint.close();
    }
  });

  test('a secret that is not ours fails with a clear error and nothing changed', async () => {
    const fake = new FakeSecrets();
    fake.create(apiKeySecretName(d, 'dev'), { owner: 'someone-else' });
    const endpoint = await startEndpoint(fake);
    const loop = await startLoopback(aws(fake, endpoint.url));
    try {
      const run = await runBundle('rotate-key', { inputs, awsEndpoint: loop.url, workspace: workspace(), env: { NODE_EXTRA_CA_CERTS: endpoint.caFile } });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/::error title=Secret not ours,file=model-deploy.yml,line=\d+::.*not managed by model-deploy/);
      expect(loop.calls().filter((c) => /Put|Update|Random/.test(c))).toEqual([]);
      const withoutMasks = run.all.replace(/::add-mask::.+/g, '');
      for (const key of fake.keys) expect(withoutMasks).not.toContain(key);
    } finally {
      await loop.close();
      await endpoint.close();
    }
  });

  test('a SageMaker deployment has no key to rotate and succeeds', async () => {
    const loop = await startLoopback(() => undefined);
    try {
      const run = await runBundle('rotate-key', { inputs: { ...inputs, deployment: 'qwen-chat' }, awsEndpoint: loop.url, workspace: workspace() });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/IAM-signed/);
      expect(run.outputs).toEqual({ rotated: 'false', created: 'false' });
      expect(loop.requests).toHaveLength(0);
    } finally {
      await loop.close();
    }
  });
});
