import { certificateCovers, checkEndpointHost, nameCovers } from '../../../src/deploy/certificate';
import { memoryReporter } from '../../../src/core/log';
import { selection } from './flow-fixtures';

const ecs = () => structuredClone(selection('code-assistant', 'dev').deployment);
const CERT = 'arn:aws:acm:us-east-1:111111111111:certificate/2f1c3a4e-8b7d-4c6e-9a0b-1d2e3f4a5b6c';

describe('certificate names', () => {
  it.each([
    ['code-assistant.example.com', 'code-assistant.example.com', true],
    ['Code-Assistant.Example.com', 'code-assistant.example.com', true],
    ['*.example.com', 'code-assistant.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'a.b.example.com', false],
    ['example.com', 'code-assistant.example.com', false],
    ['*.other.com', 'code-assistant.example.com', false],
  ])('%s covers %s: %s', (name, host, want) => expect(nameCovers(name, host)).toBe(want));

  it('looks at the domain name and every alternative name', () => {
    expect(certificateCovers({ DomainName: 'example.com', SubjectAlternativeNames: ['example.com', '*.example.com'] }, 'chat.example.com')).toBe(true);
    expect(certificateCovers({ DomainName: 'example.com' }, 'chat.example.com')).toBe(false);
  });
});

describe('checkEndpointHost', () => {
  it('refuses ecs without a hostname', async () => {
    const d = ecs();
    delete d.security.hostname;
    await expect(checkEndpointHost(d, 'us-east-1', memoryReporter())).rejects.toThrow(/needs security.hostname/);
  });

  it('reads the certificate in its own region and refuses one that does not name the hostname', async () => {
    const calls: string[] = [];
    const describe = async (arn: string, region: string) => (calls.push(`${arn} ${region}`), { DomainName: 'other.example.org', SubjectAlternativeNames: ['other.example.org'] });
    await expect(checkEndpointHost(ecs(), 'eu-west-1', memoryReporter(), describe)).rejects.toThrow(
      `certificate ${CERT} names other.example.org, not security.hostname code-assistant.example.com`,
    );
    expect(calls).toEqual([`${CERT} us-east-1`]);
  });

  it('passes a wildcard certificate; AccessDenied is a warning; other errors stop the deploy', async () => {
    await expect(checkEndpointHost(ecs(), 'us-east-1', memoryReporter(), async () => ({ DomainName: '*.example.com' }))).resolves.toBeUndefined();
    const reporter = memoryReporter();
    const denied = async () => { throw Object.assign(new Error('User is not authorized to perform acm:DescribeCertificate'), { name: 'AccessDeniedException' }); };
    await checkEndpointHost(ecs(), 'us-east-1', reporter, denied);
    expect(reporter.allText()).toMatch(/Certificate not checked/);
    const missing = async () => { throw Object.assign(new Error('Could not find certificate'), { name: 'ResourceNotFoundException' }); };
    await expect(checkEndpointHost(ecs(), 'us-east-1', memoryReporter(), missing)).rejects.toThrow(/Could not find certificate/);
  });

  it('has nothing to check for SageMaker targets', async () => {
    await expect(checkEndpointHost(selection('qwen-chat', 'dev').deployment, 'us-east-1', memoryReporter())).resolves.toBeUndefined();
  });
});
