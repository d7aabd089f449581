import * as fs from 'fs';
import * as path from 'path';
import { DeployError } from '../../../src/core/errors';
import { dlcAccount, resolveEngine } from '../../../src/image/engines';
import { renderBuild, shellQuote, templatesRoot, validateBuild } from '../../../src/image/render';
import { planBuild } from '../../../src/image/plan';
import { BASE_SPEC, deployment, ROOT, specIn, withChanges } from './fixtures';

describe('engines', () => {
  it('pins DLC images per region, with the China partition suffix', () => {
    const d = deployment();
    expect(resolveEngine(d, 'us-east-1').baseImage).toBe('763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.8.5-gpu-py312-ec2');
    expect(resolveEngine(d, 'cn-north-1').baseImage).toBe('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/vllm:0.8.5-gpu-py312-ec2');
    expect(dlcAccount('af-south-1')).toBe('626614931356');
  });
  // Issue 22.4: a version with no Deep Learning Container was built FROM docker.io/vllm/vllm-openai, silently.
  it('refuses a version with no Deep Learning Container, naming the versions that have one and how to give an image', () => {
    const d = deployment(withChanges([['version: "0.8.5"', 'version: "0.6.3"']]));
    let err: unknown;
    try {
      resolveEngine(d, 'us-east-1', { file: 'model-deploy.yml', line: 13 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeployError);
    const e = err as DeployError;
    expect(e.message).toBe('deployments.chat: vllm 0.6.3 has no AWS Deep Learning Container, so model-deploy has no base image for it');
    expect(e.location).toEqual({ file: 'model-deploy.yml', line: 13 });
    expect(e.hint).toContain('vllm versions with a Deep Learning Container: 0.8.5, 0.9.0');
    expect(e.hint).toContain('engine: { name: custom, dockerfile: <path> }');
    expect(e.hint).toContain('model.image');
    // No rendered Dockerfile of any engine pulls from a public registry.
    for (const engine of ['vllm', 'tgi', 'lmi']) {
      const text = withChanges([['name: vllm', `name: ${engine}`], ['version: "0.8.5"', `version: "0.1.0"`], ['args: ["--max-model-len", "8192"]', '']]);
      expect(() => planBuild(deployment(text))).toThrow(/has no AWS Deep Learning Container/);
    }
  });
});

describe('renderBuild', () => {
  it('finds the repository templates from src/', () => {
    expect(templatesRoot()).toBe(ROOT);
  });

  it('renders the vLLM Dockerfile with the serving contract', () => {
    const r = renderBuild(deployment(), { region: 'us-east-1', root: ROOT });
    expect(r.dockerfile).toContain('FROM 763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.8.5-gpu-py312-ec2');
    expect(r.dockerfile).toContain('ENTRYPOINT ["/opt/model-deploy/serve.sh"]');
    expect(r.dockerfile).toContain('COPY model-deploy/serving/ /opt/model-deploy/');
    expect(r.dockerfile).toMatch(/MODEL_DEPLOY_ENGINE_CMD="python3 -m vllm\.entrypoints\.openai\.api_server --host 127\.0\.0\.1 --port 8081 .*--max-model-len 8192"/);
    expect(r.dockerfile).not.toMatch(/\{\{/);
    expect(r.dockerfile).not.toContain('COPY weights/');
    expect(r.files.map((f) => f.path)).toEqual(expect.arrayContaining(['model-deploy/Dockerfile', 'model-deploy/buildspec.yml', 'model-deploy/weights.sh', 'model-deploy/serving/serve.sh', 'model-deploy/serving/nginx.conf', 'model-deploy/serving/build-nginx.sh']));
    expect(r.weights).toEqual({ kind: 'huggingface', key: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it.each(['tgi', 'lmi'])('renders %s on its DLC with the engine on 127.0.0.1:8081', (engine) => {
    const text = withChanges([['name: vllm', `name: ${engine}`], ['      version: "0.8.5"\n', ''], ['      args: ["--max-model-len", "8192"]\n', '']]);
    const r = renderBuild(deployment(text), { region: 'eu-west-1', root: ROOT });
    expect(r.dockerfile).toContain(engine === 'tgi' ? 'huggingface-pytorch-tgi-inference:2.4.0-tgi2.4.0' : 'djl-inference:0.31.0-lmi13.0.0-cu124');
    expect(r.dockerfile).toContain('763104351884.dkr.ecr.eu-west-1.amazonaws.com');
    expect(r.dockerfile).toMatch(engine === 'tgi' ? /--hostname 127\.0\.0\.1 --port 8081/ : /inference_address=http:\/\/127\.0\.0\.1:8081/);
  });

  it('quotes engine args and env so neither the shell nor Docker changes them', () => {
    const text = withChanges([['args: ["--max-model-len", "8192"]', `args: ["--chat-template", "{{ x }} it's $HOME"]\n      env: { VLLM_X: 'a "b" $c' }`]]);
    const r = renderBuild(deployment(text), { region: 'us-east-1', root: ROOT });
    expect(r.dockerfile).toContain(`--chat-template '{{ x }} it'\\\\''s \\$HOME'`);
    expect(r.dockerfile).toContain('ENV VLLM_X="a \\"b\\" \\$c"');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('fills the buildspec from the spec, naming the token secret but never reading it', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:hf-token-AbCdEf';
    const text = withChanges([['revision: a09a35458c702b33eeacc393d103063234e8bc28', `revision: a09a35458c702b33eeacc393d103063234e8bc28\n        tokenSecretArn: ${arn}`]])
      .replace('    regions: [us-east-1]', '    regions: [us-east-1]\n    build:\n      args: { PIP_INDEX: "https://x/simple", A_B: "two words" }');
    const r = renderBuild(deployment(text), { region: 'us-east-1', root: ROOT });
    const YAML = require('yaml') as typeof import('yaml');
    const spec = YAML.parse(r.buildspec);
    expect(spec.env['secrets-manager']).toEqual({ HF_TOKEN: arn });
    expect(spec.env.variables).toMatchObject({ MODEL_SOURCE: 'huggingface', MODEL_ID: 'Qwen/Qwen2.5-7B-Instruct', BAKE_WEIGHTS: 'false' });
    expect(spec.env.variables.DOCKER_BUILD_ARGS).toBe(`--build-arg 'A_B=two words' --build-arg PIP_INDEX=https://x/simple`);
    // Pushing happens only in the build phase, after docker build succeeded: no post_build push.
    expect(spec.phases.post_build).toBeUndefined();
    expect(spec.phases.build.commands.join('\n')).toContain('docker push');
  });

  it('keeps quotes, backslashes and newlines of spec values intact in the buildspec (filled as text)', () => {
    const text = BASE_SPEC.replace('    regions: [us-east-1]', '    regions: [us-east-1]\n    build:\n      args: { NOTE: "say \\"hi\\" \\\\ then\\nnext: {{X}}" }');
    const r = renderBuild(deployment(text), { region: 'us-east-1', root: ROOT });
    const YAML = require('yaml') as typeof import('yaml');
    const vars = YAML.parse(r.buildspec).env.variables;
    expect(vars.DOCKER_BUILD_ARGS).toBe(`--build-arg 'NOTE=say "hi" \\ then\nnext: {{X}}'`);
    expect(YAML.parse(r.buildspec).env['secrets-manager']).toBeUndefined();
  });

  it('bakes weights into the image when asked', () => {
    const text = withChanges([['    target:', '    target:']]).replace('        revision: a09a35458c702b33eeacc393d103063234e8bc28', '        revision: a09a35458c702b33eeacc393d103063234e8bc28\n      bakeIntoImage: true');
    const r = renderBuild(deployment(text), { region: 'us-east-1', root: ROOT });
    expect(r.dockerfile).toContain('COPY weights/ /opt/ml/model/');
    expect(r.weights).toEqual({ kind: 'baked' });
  });

  it('gives the same tag for the same inputs and a new one when anything that shapes the image changes', () => {
    const tag = (text: string) => renderBuild(deployment(text), { region: 'us-east-1', root: ROOT }).tag;
    const base = tag(BASE_SPEC);
    expect(base).toMatch(/^md-[0-9a-f]{40}$/);
    expect(tag(BASE_SPEC)).toBe(base);
    const changed = [
      withChanges([['version: "0.8.5"', 'version: "0.9.0"']]),
      withChanges([['"8192"', '"4096"']]),
      withChanges([['a09a35458c702b33eeacc393d103063234e8bc28', 'b09a35458c702b33eeacc393d103063234e8bc28']]),
      withChanges([['id: Qwen/Qwen2.5-7B-Instruct', 'id: Qwen/Qwen2.5-3B-Instruct']]),
      BASE_SPEC.replace('    regions: [us-east-1]', '    regions: [us-east-1]\n    build:\n      args: { X: "1" }'),
    ].map(tag);
    expect(new Set([base, ...changed]).size).toBe(changed.length + 1);
    // Instance type and scaling do not shape the image.
    expect(tag(withChanges([['instanceCount: 1', 'instanceCount: 2']]))).toBe(base);
    expect(renderBuild(deployment(), { region: 'eu-west-1', root: ROOT }).tag).not.toBe(base);
  });

  it('builds a custom Dockerfile with its folder as the context', () => {
    const text = withChanges([['name: vllm', 'name: custom\n      dockerfile: docker/Dockerfile'], ['      version: "0.8.5"\n', '']]);
    const { spec, dir } = specIn(text, { 'docker/Dockerfile': 'FROM scratch\nCOPY app.py /\n', 'docker/app.py': 'print(1)\n' });
    const r = renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir });
    expect(r.customDockerfile).toBe(path.join(dir, 'docker', 'Dockerfile'));
    expect(r.dockerfilePath).toBe('Dockerfile');
    expect(r.files.map((f) => f.path)).toEqual(expect.arrayContaining(['Dockerfile', 'app.py', 'model-deploy/serving/serve.sh']));
    const before = r.tag;
    fs.writeFileSync(path.join(dir, 'docker', 'app.py'), 'print(2)\n');
    expect(renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir }).tag).not.toBe(before);
    fs.rmSync(path.join(dir, 'docker', 'Dockerfile'));
    expect(() => renderBuild(spec.deployments.chat, { region: 'us-east-1', root: ROOT, specDir: dir })).toThrow(/engine\.dockerfile "docker\/Dockerfile" does not exist/);
  });
});

describe('validateBuild', () => {
  it('rejects a repository name ECR would refuse', () => {
    const d = deployment(BASE_SPEC.replace('project: acme', 'project: acme--llm'));
    expect(() => validateBuild(d)).toThrow(/ECR repository name "acme--llm\/chat"/);
  });
  it('rejects a model id that is not owner/name', () => {
    const d = deployment(withChanges([['id: Qwen/Qwen2.5-7B-Instruct', 'id: Qwen/Qwen--7B']]));
    let err: unknown;
    try {
      validateBuild(d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeployError);
    expect((err as DeployError).describe()).toMatch(/not a Hugging Face model id[\s\S]*owner\/name/);
  });
  it('rejects engine args for lmi', () => {
    const d = deployment(withChanges([['name: vllm', 'name: lmi']]));
    expect(() => validateBuild(d)).toThrow(/engine\.args is not used by lmi/);
  });
});

describe('planBuild', () => {
  it('writes the rendered buildspec and Dockerfile of the example deployments', () => {
    const { loadSpec } = require('../../../src/config/load') as typeof import('../../../src/config/load');
    const spec = loadSpec(path.join(ROOT, 'examples', 'model-deploy.yml'));
    for (const d of Object.values(spec.deployments)) {
      const part = planBuild(d);
      expect(part.files.map((f) => f.path).sort()).toEqual(['build/Dockerfile', 'build/buildspec.yml']);
      expect(part.files.find((f) => f.path === 'build/Dockerfile')!.content).toContain('ENTRYPOINT ["/opt/model-deploy/serve.sh"]');
      expect(part.summary[0]).toMatch(new RegExp(`^${d.name}: build (vllm|tgi) .* tag md-[0-9a-f]{40}`));
    }
  });
});
