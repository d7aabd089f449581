import { endpointNameOutput, endpointUrlOutput, stackOutputs } from '../../../src/core/stack';

describe("a stack's outputs", () => {
  it('as a record', () => {
    expect(stackOutputs({ Outputs: [{ OutputKey: 'EndpointUrl', OutputValue: 'https://a' }, { OutputKey: 'Empty' }] } as never)).toEqual({ EndpointUrl: 'https://a', Empty: '' });
    expect(stackOutputs(undefined)).toEqual({});
  });

  it("the endpoint URL: the templates' EndpointUrl, an older name, else any *Url output holding an http(s) URL", () => {
    expect(endpointUrlOutput({ EndpointUrl: 'https://chat.example.com', ServiceUrl: 'https://other' })).toBe('https://chat.example.com');
    expect(endpointUrlOutput({ LoadBalancerUrl: 'http://lb.example.com' })).toBe('http://lb.example.com');
    expect(endpointUrlOutput({ URL: 'https://u' })).toBe('https://u');
    expect(endpointUrlOutput({ ModelDataUrl: 's3://b/k', PublicUrl: 'https://p' })).toBe('https://p');
    expect(endpointUrlOutput({ EndpointUrl: '', ClusterName: 'c' })).toBeUndefined();
  });

  it('the endpoint name: EndpointName, else ServiceName', () => {
    expect(endpointNameOutput({ EndpointName: 'e', ServiceName: 's' })).toBe('e');
    expect(endpointNameOutput({ ServiceName: 's' })).toBe('s');
    expect(endpointNameOutput({})).toBeUndefined();
  });
});
