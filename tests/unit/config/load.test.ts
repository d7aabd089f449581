import { YAML_ALIAS_BOMB } from '../../support/yaml-bomb';
import { exampleSpec } from '../../support/target';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DeployError } from '../../../src/core/errors';
import { mergeDefaults } from '../../../src/config/defaults';
import { loadSpec, parseSpec } from '../../../src/config/load';
import { selectDeployment, selectEnvironment } from '../../../src/config/select';
import { nearest } from '../../../src/config/suggest';
import { specRejections as problems } from '../../support/spec-problems';

const EXAMPLE = path.resolve(__dirname, '../../../examples/model-deploy.yml');


const VALID = `version: 1
deployments:
  chat:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
`;

describe('loading the bundled example', () => {
  const spec = loadSpec(EXAMPLE, { displayPath: 'examples/model-deploy.yml' });

  it('resolves three deployments with defaults merged and schema defaults applied', () => {
    expect(Object.keys(spec.deployments)).toEqual(['qwen-chat', 'summarizer-batch', 'code-assistant']);
    const chat = spec.deployments['qwen-chat'];
    expect(chat.regions).toEqual(['us-east-1']);
    expect(chat.tags).toEqual({ team: 'ml-platform', 'cost-center': '4711' });
    // No schema default: the deploy derives it from the model (src/deploy/budgets.ts).
    expect(chat.healthCheck.startupTimeoutSeconds).toBeUndefined();
    expect(chat.build.computeType).toBe('BUILD_GENERAL1_LARGE');
    expect(chat.model.huggingface?.revision).toMatch(/^[0-9a-f]{40}$/);
    expect(chat.source).toEqual({ file: 'examples/model-deploy.yml', line: expect.any(Number) });
    expect(spec.deployments['summarizer-batch'].autoscaling?.min).toBe(0);
    expect(spec.deployments['code-assistant'].apiKey.enabled).toBe(true);
  });

  it('keeps environments with their accounts and regions', () => {
    expect(selectEnvironment(spec, 'prod').regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(spec.environments.dev.ecrReplication).toBe(false);
  });

  it('points at the line of a deployment', () => {
    const lines = fs.readFileSync(EXAMPLE, 'utf8').split('\n');
    const line = spec.deployments['summarizer-batch'].source.line;
    expect(lines[line - 1]).toMatch(/^\s+summarizer-batch:/);
  });
});

describe('bad specs get one clear message with file:line', () => {
  it('reports a missing file with what to do', () => {
    expect(() => loadSpec('/nonexistent/model-deploy.yml', { displayPath: 'model-deploy.yml' })).toThrow(/config file model-deploy.yml does not exist/);
  });

  it('reports invalid YAML at its line', () => {
    const [e] = problems('version: 1\ndeployments:\n  chat: [unclosed\n');
    expect(e.message).toMatch(/invalid YAML/);
    expect(e.location?.line).toBeGreaterThanOrEqual(3);
  });

  it('suggests the closest instance types for an unknown one', () => {
    const [e] = problems(VALID.replace('ml.g5.2xlarge', 'ml.g5.2xlarg'));
    expect(e.location).toEqual({ file: 'model-deploy.yml', line: 8, column: 19 });
    expect(e.message).toMatch(/instanceType "ml.g5.2xlarg" is not a known SageMaker instance type/);
    expect(e.hint).toMatch(/Did you mean "ml.g5.2xlarge"/);
  });

  it('says when an EC2 type is used for SageMaker', () => {
    const [e] = problems(VALID.replace('ml.g5.2xlarge', 'g5.2xlarge'));
    expect(e.hint).toMatch(/try "ml.g5.2xlarge"/);
  });

  it('suggests the nearest enumeration value with the valid ones', () => {
    const [e] = problems(VALID.replace('sagemaker-realtime', 'sagemaker-realtim'));
    expect(e.message).toBe('deployments.chat.target is "sagemaker-realtim", which is not valid');
    expect(e.location?.line).toBe(7);
    expect(e.hint).toMatch(/^Did you mean "sagemaker-realtime"/);
    expect(e.hint).toMatch(/Valid values: sagemaker-realtime, sagemaker-async, ec2, ecs/);
  });

  it('names a field of the wrong type', () => {
    const [e] = problems(VALID.replace('regions: [us-east-1]', 'regions: [us-east-1]\n    instanceCount: "two"'));
    expect(e.message).toBe('deployments.chat.instanceCount must be an integer, not "two"');
    expect(e.location?.line).toBe(10);
  });

  it('finds a misspelt field and suggests the right one', () => {
    const [e] = problems(VALID.replace('instanceType:', 'instancetype:'));
    expect(e.message).toBe('deployments.chat has an unknown field "instancetype"');
    expect(e.hint).toMatch(/Did you mean "instanceType"/);
    expect(e.location?.line).toBe(8);
  });

  it('requires one model source', () => {
    const errs = problems(VALID.replace('huggingface: { id: Qwen/Qwen2.5-7B-Instruct }', 'huggingface: { id: Qwen/Qwen2.5-7B-Instruct }\n      image: 1.dkr.ecr.us-east-1.amazonaws.com/x:1'));
    expect(errs).toHaveLength(1);
    expect(errs[0].message).toBe('deployments.chat.model is not valid');
    expect(errs[0].hint).toMatch(/huggingface, s3, image or bedrock; image may come with s3/);
  });

  it('accepts a prebuilt image with its model files in S3 (tar.gz or prefix), with no engine', () => {
    const image = '763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.31.0-lmi13.0.0-cu124';
    for (const s3 of ['s3://bucket/model/model.tar.gz', 's3://bucket/model/']) {
      const text = VALID.replace('huggingface: { id: Qwen/Qwen2.5-7B-Instruct }', `s3: ${s3}\n      image: ${image}`).replace('    engine: { name: vllm }\n', '');
      const d = parseSpec(text, 'model-deploy.yml').deployments.chat;
      expect(d.model).toMatchObject({ s3, image });
    }
  });

  it('rejects a model id that is not owner/name', () => {
    const [e] = problems(VALID.replace('Qwen/Qwen2.5-7B-Instruct', 'qwen-7b'));
    expect(e.message).toMatch(/deployments.chat.model.huggingface.id is "qwen-7b"/);
    expect(e.hint).toMatch(/owner\/name/);
  });

  it('reports a field missing after merging defaults, at the deployment', () => {
    const [e] = problems(VALID.replace('    regions: [us-east-1]\n', ''));
    expect(e.message).toBe('deployments.chat is missing the required field "regions"');
    expect(e.location?.line).toBe(3);
  });

  it('rejects negative counts and impossible autoscaling', () => {
    expect(problems(VALID + '    instanceCount: -1\n')[0].message).toMatch(/instanceCount is number -1: it must be >= 1/);
    const errs = problems(VALID + '    autoscaling: { min: 0, max: 2 }\n');
    expect(errs.map((e) => e.message)).toEqual([
      'deployments.chat: autoscaling.min is 0, but only sagemaker-async endpoints can scale to zero',
    ]);
  });

  it('checks that a custom Dockerfile exists, relative to the spec', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spec-'));
    const custom = VALID.replace('{ name: vllm }', '{ name: custom, dockerfile: serving/Dockerfile }');
    expect(problems(custom, dir)[0].message).toMatch(/engine.dockerfile "serving\/Dockerfile" does not exist/);
    fs.mkdirSync(path.join(dir, 'serving'));
    fs.writeFileSync(path.join(dir, 'serving', 'Dockerfile'), 'FROM scratch\n');
    expect(() => parseSpec(custom, 'model-deploy.yml', dir)).not.toThrow();
  });

  it('requires a certificate for HTTPS targets and keeps China regions apart', () => {
    const ecs = VALID.replace('sagemaker-realtime', 'ecs').replace('ml.g5.2xlarge', 'g5.2xlarge').replace('[us-east-1]', '[us-east-1, cn-north-1]');
    const messages = problems(ecs).map((e) => e.message);
    expect(messages).toEqual([
      'deployments.chat: target ecs serves HTTPS and needs security.certificateArn',
      'deployments.chat: target ecs needs security.vpc with vpcId, subnets and securityGroups',
      'deployments.chat: mixes China regions with other regions',
    ]);
  });

  it('reports every problem of a spec in one pass', () => {
    const text = VALID.replace('sagemaker-realtime', 'lambda').replace('vllm', 'vlm');
    expect(problems(text)).toHaveLength(2);
  });
});

describe('China regions stay in their own partition, wherever the regions come from', () => {
  const withEnv = (env: string, deploymentExtra = '') => `version: 1
environments:
${env}
deployments:
  chat:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct }
    engine: { name: vllm }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
${deploymentExtra}`;

  it('rejects an environment whose regions mix China and other regions, at its regions line', () => {
    const errs = problems(withEnv('  prod:\n    account: "333333333333"\n    regions: [us-east-1, cn-north-1]'));
    expect(errs.map((e) => e.message)).toEqual(['environments.prod: regions mix China regions (cn-north-1) with other regions (us-east-1)']);
    expect(errs[0]?.location?.line).toBe(5);
  });

  it('rejects an aws role for an environment that deploys to China, at the role line', () => {
    const errs = problems(withEnv('  cn:\n    account: "444444444444"\n    roleArn: arn:aws:iam::444444444444:role/deploy\n    regions: [cn-north-1]'));
    expect(errs.map((e) => e.message)).toEqual([
      'environments.cn: roleArn is an ARN of partition aws, but the environment deploys to cn-north-1 (partition aws-cn)',
    ]);
    expect(errs[0]?.location?.line).toBe(5);
    expect(errs[0]?.hint).toMatch(/arn:aws-cn:/);
  });

  it('checks a role against the regions the deployments bring when the environment names none', () => {
    const text = withEnv('  cn:\n    account: "444444444444"\n    roleArn: arn:aws:iam::444444444444:role/deploy').replace('regions: [us-east-1]', 'regions: [cn-north-1]');
    const errs = problems(text);
    expect(errs.map((e) => e.message)).toEqual([
      'environments.cn: roleArn is an ARN of partition aws, but deployment chat deploys to cn-north-1 (partition aws-cn)',
    ]);
    expect(errs[0]?.location?.line).toBe(5);
  });

  it('accepts China environments with aws-cn roles', () => {
    const text = withEnv('  cn:\n    account: "444444444444"\n    roleArn: arn:aws-cn:iam::444444444444:role/deploy\n    regions: [cn-north-1, cn-northwest-1]');
    expect(() => parseSpec(text, 'model-deploy.yml')).not.toThrow();
  });
});

describe('YAML that is not a spec says what happened and where', () => {
  const BOMB = YAML_ALIAS_BOMB;

  // How quickly it is stopped is a figure of npm run bench (bench/config.bench.ts), against a plain spec's load.
  it('stops an alias bomb with a message naming the file', () => {
    const [e] = problems(BOMB);
    expect(e).toBeInstanceOf(DeployError);
    expect(e.message).toMatch(/aliases/);
    expect(e.message).toMatch(/expand/);
    expect(e.location?.file).toBe('model-deploy.yml');
    expect(e.location?.line).toBe(2);
    expect(e.describe()).toMatch(/^model-deploy\.yml:2:\d+: /);
  });

  it('names a duplicate key and both of its lines', () => {
    const [e] = problems(VALID.replace('    target: sagemaker-realtime\n', '    target: sagemaker-realtime\n    regions: [eu-west-1]\n'));
    expect(e.message).toBe('duplicate key "regions" in deployments.chat: line 8 and line 10');
    expect(e.location?.line).toBe(10);
    expect(e.hint).toMatch(/line 8/);
  });

  it.each([['an empty file', ''], ['a file of comments only', '# to do\n']])('gives %s a hint where to start', (_what, text) => {
    const [e] = problems(text);
    expect(e.message).toBe('the spec file is empty (or only comments)');
    expect(e.location?.file).toBe('model-deploy.yml');
    expect(e.hint).toMatch(/examples\/model-deploy\.yml/);
  });

  it('says --config on the command line and the `config` input in an action', () => {
    const cli = (() => {
      try {
        loadSpec('/nonexistent/x.yml', { displayPath: 'x.yml', configFlag: '--config' });
      } catch (err) {
        return err as DeployError;
      }
      return undefined;
    })();
    expect(cli?.hint).toMatch(/--config/);
    expect(cli?.hint).not.toMatch(/input/);
    expect(() => loadSpec('/nonexistent/x.yml', { displayPath: 'x.yml' })).toThrow(expect.objectContaining({ hint: expect.stringMatching(/the `config` input/) }));
  });
});

describe('the closed instance list says why a type is refused', () => {
  it.each([
    ['sagemaker-realtime', 'ml.m4.xlarge', 'm4', 'ml.m5.xlarge'],
    ['sagemaker-realtime', 'ml.c4.2xlarge', 'c4', 'ml.c5.2xlarge'],
    ['sagemaker-realtime', 'ml.p2.xlarge', 'p2', 'ml.g5.xlarge'],
    ['ec2', 'r4.large', 'r4', 'r5.large'],
  ])('%s %s: previous generation, with the current one', (target, type, family, current) => {
    const text = VALID.replace('sagemaker-realtime', target).replace('ml.g5.2xlarge', type);
    const e = problems(text).find((x) => x.message.includes('instanceType'));
    expect(e?.message).toBe(`deployments.chat: instanceType "${type}" is a previous-generation type (${family}), which model-deploy does not deploy to`);
    expect(e?.hint).toBe(`Use the current generation: "${current}".`);
    expect(e?.location?.line).toBe(8);
  });
});

describe('SageMaker endpointName and executionRoleArn', () => {
  const sm = (extra: string, text = VALID) => text.replace('    regions: [us-east-1]\n', `    regions: [us-east-1]\n${extra}`);

  it('accepts both on a SageMaker deployment and keeps them', () => {
    const spec = parseSpec(sm('    endpointName: chat-prod-v2\n    executionRoleArn: arn:aws:iam::111111111111:role/my-sagemaker-role\n'), 'model-deploy.yml');
    expect(spec.deployments.chat?.endpointName).toBe('chat-prod-v2');
    expect(spec.deployments.chat?.executionRoleArn).toBe('arn:aws:iam::111111111111:role/my-sagemaker-role');
  });

  it('leaves both absent by default (the name and a least-privilege role are generated)', () => {
    const d = parseSpec(VALID, 'model-deploy.yml').deployments.chat;
    expect(d?.endpointName).toBeUndefined();
    expect(d?.executionRoleArn).toBeUndefined();
  });

  it.each([
    ['an endpoint name SageMaker rejects', '    endpointName: chat_prod\n', /endpointName is "chat_prod", which is not valid/],
    ['an endpoint name over 63 characters', `    endpointName: ${'a'.repeat(64)}\n`, /endpointName is "a{64}", which is not valid/],
    ['a role that is not an IAM role ARN', '    executionRoleArn: arn:aws:iam::111111111111:user/me\n', /executionRoleArn is "arn:aws:iam::111111111111:user\/me", which is not valid/],
  ])('rejects %s at its line', (_what, extra, message) => {
    const [e] = problems(sm(extra));
    expect(e?.message).toMatch(message);
    expect(e?.location?.line).toBe(10);
  });

  it('refuses them on ec2 and ecs', () => {
    const ecs = VALID.replace('sagemaker-realtime', 'ecs').replace('ml.g5.2xlarge', 'g5.2xlarge');
    const messages = problems(sm('    endpointName: chat\n    executionRoleArn: arn:aws:iam::111111111111:role/r\n', ecs)).map((e) => e.message);
    expect(messages).toEqual(
      expect.arrayContaining(['deployments.chat: endpointName applies to SageMaker targets only', 'deployments.chat: executionRoleArn applies to SageMaker targets only']),
    );
  });

  it('refuses a role of another partition than the regions', () => {
    const cn = sm('    executionRoleArn: arn:aws:iam::111111111111:role/r\n').replace('regions: [us-east-1]', 'regions: [cn-north-1]');
    const [e] = problems(cn);
    expect(e?.message).toBe('deployments.chat: executionRoleArn is an ARN of partition aws, but the deployment deploys to cn-north-1 (partition aws-cn)');
  });

  it('refuses one endpoint name for two deployments', () => {
    const two = sm('    endpointName: shared\n') + sm('    endpointName: shared\n').split('\n').slice(2).join('\n').replace('  chat:', '  other:');
    const errs = problems(two);
    expect(errs.map((e) => e.message)).toEqual(['deployments.other: endpointName "shared" is also the endpoint name of deployment chat']);
  });
});

describe('selecting', () => {
  const spec = parseSpec(VALID + '  other:\n    model: { s3: "s3://bucket/m/" }\n    engine: { name: tgi }\n    target: sagemaker-async\n    instanceType: ml.g5.xlarge\n    regions: [eu-west-1]\n', 'm.yml');

  it('suggests the nearest deployment name', () => {
    expect(() => selectDeployment(spec, 'chta')).toThrow(/unknown deployment "chta"/);
    try {
      selectDeployment(spec, 'chta');
    } catch (e) {
      expect((e as DeployError).hint).toMatch(/Did you mean "chat"/);
    }
  });

  it('asks which deployment when there are several', () => {
    expect(() => selectDeployment(spec, undefined)).toThrow(/has 2 deployments/);
  });

  it('says when there are no environments', () => {
    expect(() => selectEnvironment(spec, 'prod')).toThrow(/unknown environment "prod"/);
  });

  it('points an account id given for an environment at the environment with that account, for every action', () => {
    const example = exampleSpec();
    const [name, env] = Object.entries(example.environments)[0]!;
    expect(() => selectEnvironment(example, env.account)).toThrow(new RegExp(`input \`environment\` is the account ${env.account}.*is environment "${name}"`));
    expect(() => selectEnvironment(example, '000000000000', 'target-environment')).toThrow(/input `target-environment` is the account 000000000000.*not in the spec/);
  });
});

describe('helpers', () => {
  it('merges objects and replaces lists', () => {
    expect(mergeDefaults({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [9] })).toEqual({ a: { b: 1, c: 3 }, l: [9] });
  });
  it('orders suggestions by distance', () => {
    expect(nearest('ml.g5.2xlarg', ['ml.g4dn.xlarge', 'ml.g5.2xlarge', 'ml.g5.12xlarge'], 2)).toEqual(['ml.g5.2xlarge', 'ml.g5.12xlarge']);
  });
});

describe('Inferentia and Trainium (issue 16.2)', () => {
  it.each([
    ['ec2', 'inf2.8xlarge'],
    ['ecs', 'trn1.2xlarge'],
  ])('refuses %s on %s until a Neuron AMI and device mapping exist, naming what works', (target, type) => {
    const text = VALID.replace('sagemaker-realtime', target).replace('ml.g5.2xlarge', type).replace('{ name: vllm }', '{ name: lmi }');
    const e = problems(text).find((x) => x.message.includes(type));
    expect(e?.message).toBe(`deployments.chat: target ${target} cannot run ${type} (AWS Neuron) yet: its hosts have no Neuron AMI or device mapping`);
    expect(e?.hint).toMatch(/target: sagemaker-realtime.*ml\.inf2\.xlarge.*engine lmi or tgi/);
    expect(e?.location?.line).toBe(8);
  });

  it('refuses vLLM on a Neuron SageMaker instance, naming the engines that have a Neuron build', () => {
    const [e] = problems(VALID.replace('ml.g5.2xlarge', 'ml.inf2.xlarge'));
    expect(e?.message).toBe('deployments.chat: engine vllm has no verified Neuron build for ml.inf2.xlarge (Inferentia/Trainium)');
    expect(e?.hint).toMatch(/engine: \{ name: lmi \}.*tgi/);
  });

  it.each(['lmi', 'tgi'])('accepts %s on ml.inf2 and ml.trn1', (engine) => {
    for (const type of ['ml.inf2.xlarge', 'ml.trn1.32xlarge']) {
      expect(() => parseSpec(VALID.replace('ml.g5.2xlarge', type).replace('{ name: vllm }', `{ name: ${engine} }`), 'model-deploy.yml')).not.toThrow();
    }
  });
});

describe('a prebuilt image (issue 16.1)', () => {
  it('refuses bakeIntoImage, which needs a build', () => {
    const text = VALID.replace('huggingface: { id: Qwen/Qwen2.5-7B-Instruct }', 's3: s3://bucket/model/\n      image: 1.dkr.ecr.us-east-1.amazonaws.com/x:1\n      bakeIntoImage: true');
    const [e] = problems(text);
    expect(e?.message).toBe('deployments.chat: model.bakeIntoImage needs a build, but model.image names a prebuilt image');
    expect(e?.hint).toBe('Remove bakeIntoImage: the container loads the model files from model.s3 at start.');
  });
});
