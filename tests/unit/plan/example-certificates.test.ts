/**
 * A certificate is one account's and one region's: the example's code-assistant (ecs, HTTPS) names
 * dev's in security.certificateArn and staging's and prod's (one per prod region) in
 * security.certificateArns, so `plan` works for every environment, each stack gets the certificate
 * of its environment and region, and validate refuses an entry that cannot serve its environment.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSpec, parseSpec } from '../../../src/config/load';
import { DeployError, DeployErrors } from '../../../src/core/errors';
import { memoryReporter } from '../../../src/core/log';
import { checkEndpointHost } from '../../../src/deploy/certificate';
import { plan } from '../../../src/plan/plan';

const EXAMPLE = path.resolve(__dirname, '../../../examples/model-deploy.yml');
const TEXT = fs.readFileSync(EXAMPLE, 'utf8');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const outDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cert-'));
  dirs.push(d);
  return d;
};

const CERTS = {
  dev: 'arn:aws:acm:us-east-1:111111111111:certificate/2f1c3a4e-8b7d-4c6e-9a0b-1d2e3f4a5b6c',
  staging: 'arn:aws:acm:us-east-1:222222222222:certificate/7a9e2c41-3b5d-4f60-8e1a-2c3d4e5f6a7b',
  prodUse1: 'arn:aws:acm:us-east-1:333333333333:certificate/c4d5e6f7-1a2b-4c3d-9e8f-0a1b2c3d4e5f',
  prodEuw1: 'arn:aws:acm:eu-west-1:333333333333:certificate/e1f2a3b4-5c6d-4e7f-8a9b-0c1d2e3f4a5b',
};

function certificateParameter(out: string, region: string): string | undefined {
  const file = path.join(out, 'code-assistant', region, 'parameters.json');
  const params = JSON.parse(fs.readFileSync(file, 'utf8')) as { ParameterKey: string; ParameterValue: string }[];
  return params.find((p) => p.ParameterKey === 'CertificateArn')?.ParameterValue;
}

/** The spec's errors (validate), as messages with their lines. */
function refusals(text: string): string[] {
  try {
    parseSpec(text, 'model-deploy.yml');
    return [];
  } catch (err) {
    const errors = err instanceof DeployErrors ? err.errors : [err as DeployError];
    return errors.map((e) => `${e.location?.line ?? '?'}: ${e.message} (${e.hint ?? ''})`);
  }
}
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describe('the example plans for every environment, each with its own certificate', () => {
  const spec = loadSpec(EXAMPLE, { displayPath: 'examples/model-deploy.yml' });

  it.each([
    ['dev', { 'us-east-1': CERTS.dev }],
    ['staging', { 'us-east-1': CERTS.staging }],
    ['prod', { 'us-east-1': CERTS.prodUse1, 'eu-west-1': CERTS.prodEuw1 }],
  ] as const)('plan --environment %s', async (environment, want) => {
    const out = outDir();
    const result = await plan(spec, { outDir: out, environment });
    expect(result.environment).toBe(environment);
    expect(result.summary.join('\n')).toContain(`stack acme-llm-code-assistant-${environment}`);
    for (const [region, arn] of Object.entries(want)) expect(certificateParameter(out, region)).toBe(arn);
  });

  it("deploy-endpoint's hostname pre-check reads the certificate the stack gets, in its region", async () => {
    const d = spec.deployments['code-assistant'];
    if (!d) throw new Error('the example has code-assistant');
    const read: string[] = [];
    const describe = async (arn: string, region: string) => (read.push(`${arn} ${region}`), { DomainName: 'code-assistant.example.com' });
    await checkEndpointHost(d, 'eu-west-1', memoryReporter(), describe, 'prod');
    await checkEndpointHost(d, 'us-east-1', memoryReporter(), describe, 'staging');
    await checkEndpointHost(d, 'us-east-1', memoryReporter(), describe, 'dev');
    expect(read).toEqual([`${CERTS.prodEuw1} eu-west-1`, `${CERTS.staging} us-east-1`, `${CERTS.dev} us-east-1`]);
  });
});

describe('validate refuses a certificateArns entry that cannot serve its environment, at its line', () => {
  it('accepts the example', () => expect(refusals(TEXT)).toEqual([]));

  it('a key that names no environment', () => {
    const text = TEXT.replace('        staging: arn:', '        stagign: arn:');
    expect(refusals(text)).toEqual([expect.stringMatching(new RegExp(`^${lineOf(text, 'stagign:')}: deployments.code-assistant: security.certificateArns.stagign names no environment of the spec \\(Environments: dev, staging, prod\\.\\)`))]);
  });

  it('a region of the environment without its certificate', () => {
    const text = TEXT.replace(`          - ${CERTS.prodEuw1}\n`, `          - ${CERTS.prodUse1.replace('c4d5', 'aaaa')}\n`);
    expect(refusals(text)).toEqual([expect.stringMatching(/security\.certificateArns\.prod has no certificate of eu-west-1, where environment prod deploys \(Add the ARN of a certificate in eu-west-1 of account 333333333333/)]);
  });

  it("a certificate of another account than the environment's", () => {
    const text = TEXT.replace(`staging: ${CERTS.staging}`, `staging: ${CERTS.dev}`);
    expect(refusals(text)).toEqual([
      expect.stringMatching(new RegExp(`^${lineOf(text, 'staging: arn')}: deployments.code-assistant: security.certificateArns.staging is a certificate of account 111111111111, and environment staging deploys to account 222222222222`)),
    ]);
  });

  it('one certificate for an environment of two regions', () => {
    const text = TEXT.replace(`        prod:\n          - ${CERTS.prodUse1}\n          - ${CERTS.prodEuw1}\n`, `        prod: ${CERTS.prodUse1}\n`);
    expect(refusals(text)).toEqual([
      expect.stringMatching(new RegExp(`^${lineOf(text, 'prod: arn')}: deployments.code-assistant: security.certificateArns.prod is a certificate in us-east-1, but the load balancer runs in eu-west-1: ACM certificates serve load balancers of their own region only`)),
    ]);
  });

  it('an environment named nowhere, with no certificateArn to fall back on', () => {
    const text = TEXT.replace(/^ {6}certificateArn: .*\n/m, '');
    expect(refusals(text)).toEqual([expect.stringMatching(/deployments.code-assistant: environment dev has no certificate: security\.certificateArns does not name it, and there is no security\.certificateArn/)]);
  });

  it('an environment named nowhere still plans with certificateArn, and is refused when that is of another account', async () => {
    const text = TEXT.replace(/^ {6}certificateArns:\n(?: {8,}.*\n)+/m, '');
    const err = await plan(parseSpec(text, 'model-deploy.yml'), { outDir: outDir(), environment: 'prod' }).then(() => undefined, (e: unknown) => e);
    expect(String((err as DeployErrors).errors?.map((e) => e.message) ?? err)).toMatch(/security\.certificateArn is a certificate of account 111111111111, and environment prod deploys to account 333333333333/);
  });
});
