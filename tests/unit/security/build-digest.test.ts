/**
 * build-model's tag race (issue 20.1): the digest it reports (which a protected ref's build records as
 * promotable) is the one its own CodeBuild build pushed, never what the content-addressed tag points at
 * when read; a tag someone else took first leaves this build's image under a tag of its own.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { buildImage } from '../../../src/image/flow';
import { infraParameters, infraTemplate } from '../../../src/image/infra';
import { exampleTarget } from '../../support/target';
import { stackOf } from '../../support/fake-aws/stack-answer';

const ROOT = path.join(__dirname, '../../..');
const OWN = `sha256:${'1'.repeat(64)}`;
const SQUATTED = `sha256:${'d'.repeat(64)}`;

describe('build-model reports its own build\'s digest', () => {
  const cfn = mockClient(CloudFormationClient);
  const ecr = mockClient(ECRClient);
  const s3 = mockClient(S3Client);
  const codebuild = mockClient(CodeBuildClient);
  const logs = mockClient(CloudWatchLogsClient);
  const sts = mockClient(STSClient);
  const target = exampleTarget('qwen-chat', 'dev');
  const repoUri = '111111111111.dkr.ecr.us-east-1.amazonaws.com/acme-llm/qwen-chat';

  beforeEach(() => {
    for (const m of [cfn, ecr, s3, codebuild, logs, sts]) m.reset();
    const params = infraParameters(target.deployment, { region: 'us-east-1', account: '111111111111', bucket: 'model-deploy-111111111111-us-east-1', template: infraTemplate(ROOT), baseRepository: 'vllm', environmentName: 'dev' });
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111111111111', Arn: 'arn:aws:sts::111111111111:assumed-role/dev/gh' });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stackOf({ name: 'build', status: 'CREATE_COMPLETE', created: new Date(), parameters: { ConfigHash: params.ConfigHash }, outputs: { RepositoryUri: repoUri, ProjectName: 'Project-abc', LogGroupName: 'lg' } })] as never });
    s3.onAnyCommand().resolves({});
    // Before the build the tag is free; once it ran, a dev job's push holds it.
    ecr.on(DescribeImagesCommand).rejectsOnce(Object.assign(new Error('not found'), { name: 'ImageNotFoundException' })).resolves({ imageDetails: [{ imageDigest: SQUATTED }] });
    codebuild.on(StartBuildCommand).resolves({ build: { id: 'Project-abc:1' } });
    logs.on(GetLogEventsCommand).resolves({ events: [], nextForwardToken: 't' });
  });

  const finished = (exported: { name: string; value: string }[]) =>
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ id: 'Project-abc:1', buildStatus: 'SUCCEEDED', currentPhase: 'COMPLETED', exportedEnvironmentVariables: exported }] });
  const run = () => ({ reporter: memoryReporter(), env: new EnvInputs({}) });

  test('a build that exported no digest fails; the digest the tag points at is not taken for its own', async () => {
    finished([]);
    const err = await buildImage(target, { pollSeconds: 0.005, stackPollMs: 5 }, run()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/exported no image digest of its own push/);
    expect((err as Error).message).not.toContain(SQUATTED);
  });

  test('the exported digest and the tag the build pushed are reported, whatever the content tag points at', async () => {
    finished([{ name: 'IMAGE_DIGEST', value: OWN }, { name: 'IMAGE_PUSHED_TAG', value: 'md-abc-b7' }]);
    const [r] = await buildImage(target, { pollSeconds: 0.005, stackPollMs: 5 }, run());
    expect(r).toMatchObject({ imageDigest: OWN, imageUri: `${repoUri}:md-abc-b7`, skipped: false });
  });
});

describe('buildspec: the digest comes from the build\'s own docker push', () => {
  const commands = (parse(fs.readFileSync(path.join(ROOT, 'templates/build/buildspec.yml'), 'utf8')) as { phases: { build: { commands: string[] } } }).phases.build.commands;
  // The push and the digest, as CodeBuild runs the phase (one bash for all its commands), with docker and aws stood in.
  function push(tagExists: boolean) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-buildspec-'));
    fs.writeFileSync(path.join(dir, 'docker'), `#!/usr/bin/env bash\necho "docker $*" >> "${dir}/calls"\nif [ "$1" = push ]; then echo "\${2##*:}: digest: ${OWN} size: 1234"; fi\n`, { mode: 0o755 });
    // describe-images of the tag: it exists (taken by another push) or not; its digest is the squatter's.
    fs.writeFileSync(path.join(dir, 'aws'), `#!/usr/bin/env bash\n${tagExists ? `echo '${SQUATTED}'; exit 0` : 'exit 254'}\n`, { mode: 0o755 });
    const from = commands.findIndex((c) => c.includes('IMAGE_PUSHED_TAG='));
    const script = ['set -e', ...commands.slice(from, from + 2), 'echo "RESULT $IMAGE_DIGEST $IMAGE_PUSHED_TAG"'].join('\n');
    const r = spawnSync('bash', ['-c', script], {
      env: { PATH: `${dir}:${process.env.PATH}`, HOME: dir, IMAGE_REPO_URI: 'acct.dkr.ecr.us-east-1.amazonaws.com/acme/chat', IMAGE_TAG: 'md-abc', CODEBUILD_BUILD_NUMBER: '7' },
      encoding: 'utf8',
    });
    return { ...r, calls: fs.readFileSync(path.join(dir, 'calls'), 'utf8') };
  }

  test('a free tag: pushed, and the digest is the push\'s', () => {
    const r = push(false);
    expect(r.stdout).toContain(`RESULT ${OWN} md-abc`);
    expect(r.calls).toContain('docker push acct.dkr.ecr.us-east-1.amazonaws.com/acme/chat:md-abc');
  });

  test('a tag someone else pushed first: this build\'s image under a tag of its own, with its own digest', () => {
    const r = push(true);
    expect(r.stdout).toContain(`RESULT ${OWN} md-abc-b7`);
    expect(r.stdout).not.toContain(SQUATTED);
    expect(r.calls).toContain('docker push acct.dkr.ecr.us-east-1.amazonaws.com/acme/chat:md-abc-b7');
  });
});
