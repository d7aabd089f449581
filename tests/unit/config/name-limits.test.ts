/**
 * The name rules the spec states are the real ones: what the schema accepts fits every name derived
 * from it (IAM's 64 characters for PROJECT.ENV.ROLE, SageMaker's 63 for endpoint names), the bootstrap
 * accepts the same project and environment names, and a refused name says the rule.
 */
import * as fs from 'fs';
import * as path from 'path';
import { specProblems as problems } from '../../support/spec-problems';

const ROOT = path.resolve(__dirname, '../../..');


const deployment = (name: string) => `  ${name}:
    model:
      huggingface: { id: Qwen/Qwen2.5-7B-Instruct, revision: a09a35458c702b33eeacc393d103063234e8bc28 }
    engine: { name: vllm, version: "0.6.3" }
    target: sagemaker-realtime
    instanceType: ml.g5.2xlarge
    regions: [us-east-1]
`;
const spec = (project: string, env: string, names: string[]) =>
  `version: 1\nproject: ${project}\nenvironments:\n  ${env}:\n    account: "111111111111"\ndeployments:\n${names.map(deployment).join('')}`;

describe('name rules', () => {
  it('refuses a project and environment whose service role names exceed IAM\'s 64 characters, at the environment', () => {
    const project = 'a'.repeat(32);
    const env = 'e'.repeat(31);
    const errs = problems(spec(project, env, ['chat']));
    const e = errs.find((x) => /64/.test(x.message));
    expect(e?.message).toBe(`environments.${env}: the role name ${project}.${env}.provenance-recorder is 84 characters; IAM allows 64`);
    expect(e?.location?.line).toBe(4);
    expect(e?.hint).toContain('43 characters together');
    // At the limit it is accepted.
    expect(problems(spec('a'.repeat(22), 'e'.repeat(21), ['chat']))).toEqual([]);
  });

  it('refuses two deployments whose generated endpoint names are the same once cut to 63 characters', () => {
    const long = 'x'.repeat(38);
    const errs = problems(spec('acme', 'dev', [`${long}-a`, `${long}-b`]).replace('project: acme', 'project: ' + 'p'.repeat(24)));
    const e = errs.find((x) => /endpoint name/.test(x.message));
    expect(e?.message).toMatch(new RegExp(`^deployments\\.${long}-b: its endpoint name in environment dev, cut to SageMaker's 63 characters, is ${'p'.repeat(24)}-${long}\\S*, which deployment ${long}-a has too$`));
    expect(e?.hint).toContain('endpointName');
  });

  it('says the real rule of a refused deployment or environment name', () => {
    const dep = problems(spec('acme', 'dev', ['chat-']));
    expect(dep[0]?.hint).toBe('Deployment names are 2 to 40 characters: lower-case letters, digits and dashes, starting with a letter and ending with a letter or digit.');
    const env = problems(spec('acme', 'Dev', ['chat']));
    expect(env[0]?.hint).toBe('Environment names are 1 to 31 characters: lower-case letters, digits and dashes, starting with a letter.');
  });

  it('the bootstrap accepts exactly the project and environment names the spec accepts', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema/model-deploy.schema.json'), 'utf8')) as {
      properties: { project: { pattern: string }; environments: { propertyNames: { pattern: string } } };
    };
    const bootstrap = fs.readFileSync(path.join(ROOT, 'templates/bootstrap/model-deploy-bootstrap.yaml'), 'utf8');
    const allowed = (param: string) => new RegExp(`\\n  ${param}:\\n(?: {4}.*\\n)*? {4}AllowedPattern: '([^']*)'`).exec(bootstrap)?.[1];
    expect(allowed('Project')).toBe(schema.properties.project.pattern);
    expect(allowed('Environment')).toBe(schema.properties.environments.propertyNames.pattern);
  });
});
