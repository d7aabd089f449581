import { codeBuildLink, linksMarkdown, logGroupLink, logGroupsLink, sageMakerEndpointLink, stackLink } from '../../../src/core/console-links';

describe('console links', () => {
  it('open the console of the region, in its partition', () => {
    expect(stackLink('us-east-1', 'acme-chat-dev').url).toBe('https://console.aws.amazon.com/cloudformation/home?region=us-east-1#/stacks/stackinfo?stackId=acme-chat-dev');
    expect(stackLink('cn-north-1', 'acme-chat-dev').url).toBe('https://console.amazonaws.cn/cloudformation/home?region=cn-north-1#/stacks/stackinfo?stackId=acme-chat-dev');
    expect(sageMakerEndpointLink('us-gov-west-1', 'acme-chat').url).toBe('https://console.amazonaws-us-gov.com/sagemaker/home?region=us-gov-west-1#/endpoints/acme-chat');
  });

  it('encode a stack id (an ARN) as one query value', () => {
    const id = 'arn:aws:cloudformation:eu-west-1:111111111111:stack/acme-chat-dev/0a1b2c3d-4e5f';
    expect(stackLink('eu-west-1', id).url).toBe(
      'https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/stackinfo?stackId=arn%3Aaws%3Acloudformation%3Aeu-west-1%3A111111111111%3Astack%2Facme-chat-dev%2F0a1b2c3d-4e5f',
    );
  });

  it("write log group names the way CloudWatch's console reads them", () => {
    expect(logGroupLink('cn-northwest-1', '/aws/sagemaker/Endpoints/acme-chat').url).toBe(
      'https://console.amazonaws.cn/cloudwatch/home?region=cn-northwest-1#logsV2:log-groups/log-group/$252Faws$252Fsagemaker$252FEndpoints$252Facme-chat',
    );
    expect(logGroupsLink('us-west-2', 'acme-coder-dev').url).toBe('https://console.aws.amazon.com/cloudwatch/home?region=us-west-2#logsV2:log-groups$3FlogGroupNameFilter$3Dacme-coder-dev');
  });

  it('open a CodeBuild build by its id', () => {
    const link = codeBuildLink('cn-north-1', 'acme-build:7f3e-11aa');
    expect(link.url).toBe('https://console.amazonaws.cn/codesuite/codebuild/projects/acme-build/build/acme-build%3A7f3e-11aa/log?region=cn-north-1');
    expect(linksMarkdown([link])).toBe(`- [CodeBuild build acme-build:7f3e-11aa](${link.url})`);
  });
});
