import { NodeHttpHandler } from '@smithy/node-http-handler';
import { STSClient } from '@aws-sdk/client-sts';
import { clientConfig } from '../../../src/core/aws';
import type { githubClient as GitHubClientFactory } from '../../../src/core/github';
import { loadHttpClient } from '../../../src/core/http-client';
import { proxyConfigured, proxyFor, proxyRequestHandler } from '../../../src/core/proxy';
import { startLoopback } from '../../support/loopback';
import { useEnv } from '../../support/env';

const VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY', 'GITHUB_API_URL'];
// Restored after each test.
const setEnvForTest = useEnv();

/** Only these proxy variables set: every other of VARIABLES unset. */
function setProxyEnv(values: Record<string, string>) {
  setEnvForTest({ ...Object.fromEntries(VARIABLES.map((name) => [name, undefined])), ...values });
}

beforeAll(async () => {
  // As runAction does when a proxy variable is set: proxyFor asks the package it loads.
  await loadHttpClient();
});

const PROXY = 'http://proxy.corp:3128/';

describe('proxyFor', () => {
  it('is direct when no proxy variable is set', () => {
    setProxyEnv({});
    expect(proxyConfigured()).toBe(false);
    expect(proxyFor('https://sts.us-east-1.amazonaws.com')).toBeUndefined();
  });

  it('uses HTTPS_PROXY for https and HTTP_PROXY for http', () => {
    setProxyEnv({ HTTPS_PROXY: PROXY, HTTP_PROXY: 'http://plain.corp:8080' });
    expect(proxyFor('https://sts.us-east-1.amazonaws.com')).toBe(PROXY);
    expect(proxyFor('http://aws.invalid:4566')).toBe('http://plain.corp:8080/');
    setProxyEnv({ HTTP_PROXY: PROXY });
    expect(proxyConfigured()).toBe(true);
    expect(proxyFor('https://api.github.com')).toBeUndefined();
  });

  it('prefers lower-case variables, as curl does', () => {
    setProxyEnv({ https_proxy: PROXY, HTTPS_PROXY: 'http://upper.corp:1' });
    expect(proxyFor('https://api.github.com')).toBe(PROXY);
    setProxyEnv({ HTTPS_PROXY: PROXY, NO_PROXY: 'api.github.com', no_proxy: 'example.com' });
    expect(proxyFor('https://api.github.com')).toBe(PROXY);
  });

  it('accepts a proxy without a scheme', () => {
    setProxyEnv({ HTTPS_PROXY: 'proxy.corp:3128' });
    expect(proxyFor('https://api.github.com')).toBe('http://proxy.corp:3128');
  });

  describe('NO_PROXY', () => {
    const bypassed = (noProxy: string, url: string) => {
      setProxyEnv({ HTTPS_PROXY: PROXY, HTTP_PROXY: PROXY, NO_PROXY: noProxy });
      return proxyFor(url) === undefined;
    };

    it('matches a host name and its subdomains, in any case', () => {
      expect(bypassed('amazonaws.com', 'https://amazonaws.com')).toBe(true);
      expect(bypassed('amazonaws.com', 'https://sts.us-east-1.amazonaws.com')).toBe(true);
      expect(bypassed('AmazonAWS.com', 'https://S3.amazonaws.com')).toBe(true);
      expect(bypassed('amazonaws.com', 'https://notamazonaws.com')).toBe(false);
      expect(bypassed('amazonaws.com', 'https://api.github.com')).toBe(false);
    });

    it('matches a .suffix', () => {
      expect(bypassed('.amazonaws.com', 'https://sts.us-east-1.amazonaws.com')).toBe(true);
      expect(bypassed('.corp', 'https://ghe.corp')).toBe(true);
      expect(bypassed('.corp', 'https://ghe.corp.example')).toBe(false);
    });

    it('reads a comma list with blanks and empty items', () => {
      expect(bypassed(' example.com , , ghe.corp ', 'https://ghe.corp/api/v3')).toBe(true);
      expect(bypassed(' example.com , , ghe.corp ', 'https://www.example.com')).toBe(true);
      expect(bypassed(' example.com , , ghe.corp ', 'https://api.github.com')).toBe(false);
    });

    it('matches host:port only on that port (default ports included)', () => {
      expect(bypassed('ghe.corp:8443', 'https://ghe.corp:8443')).toBe(true);
      expect(bypassed('ghe.corp:8443', 'https://ghe.corp')).toBe(false);
      expect(bypassed('ghe.corp:443', 'https://ghe.corp')).toBe(true);
      expect(bypassed('aws.invalid:80', 'http://aws.invalid')).toBe(true);
    });

    it('matches an IP address as written', () => {
      expect(bypassed('10.0.0.5', 'http://10.0.0.5:4566')).toBe(true);
      expect(bypassed('10.0.0.5', 'http://10.0.0.6:4566')).toBe(false);
    });

    it('* bypasses everything', () => {
      expect(bypassed('*', 'https://sts.amazonaws.com')).toBe(true);
      expect(bypassed('*', 'https://api.github.com')).toBe(true);
    });

    it('always connects to loopback directly', () => {
      expect(bypassed('', 'http://127.0.0.1:4566')).toBe(true);
      expect(bypassed('', 'http://localhost:4566')).toBe(true);
    });
  });
});

describe('AWS clients and proxies', () => {
  it('keep the SDK default handler when no proxy is set', () => {
    setProxyEnv({});
    expect(proxyRequestHandler()).toBeUndefined();
    expect(clientConfig({ region: 'us-east-1' })).not.toHaveProperty('requestHandler');
  });

  it('get the SDK\'s own handler with proxy-routing agents when one is set', async () => {
    setProxyEnv({ HTTPS_PROXY: PROXY });
    const config = clientConfig({ region: 'us-east-1' });
    expect(config.requestHandler?.httpsAgent).toBeDefined();
    expect(clientConfig({ region: 'us-east-1' }).requestHandler?.httpsAgent).not.toBe(config.requestHandler?.httpsAgent);
    // A client builds its NodeHttpHandler from these options (no handler class is loaded by us).
    const client = new STSClient(config);
    const handler = client.config.requestHandler as NodeHttpHandler;
    expect(handler).toBeInstanceOf(NodeHttpHandler);
    const resolved = await (handler as unknown as { configProvider: Promise<{ httpAgentProvider: () => Promise<unknown>; httpsAgent: unknown }> }).configProvider;
    expect(resolved.httpsAgent).toBe(config.requestHandler?.httpsAgent);
    expect(await resolved.httpAgentProvider()).toBe(config.requestHandler?.httpAgent);
  });
});

describe('the GitHub client and proxies', () => {
  it('reaches a base URL that bypasses the proxy directly, although GITHUB_API_URL goes through it', async () => {
    // @actions/github picks proxy or direct when it is loaded, for GITHUB_API_URL (here api.github.com: proxied).
    setProxyEnv({ HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9' });
    let githubClient: typeof GitHubClientFactory | undefined;
    jest.isolateModules(() => {
       
      ({ githubClient } = require('../../../src/core/github') as { githubClient: typeof GitHubClientFactory });
    });
    const server = await startLoopback(() => ({ body: [] }));
    try {
      const res = await (await githubClient!('ghs_token', server.url)).rest.issues.listComments({ owner: 'acme', repo: 'models', issue_number: 7 });
      expect(res.data).toEqual([]);
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
