/**
 * Proxies, end to end: a child process makes a real AWS call (STS, through awsClient and the SDK's
 * credential chain) and a real GitHub call (githubClient) with HTTPS_PROXY / HTTP_PROXY pointing at a
 * loopback proxy. The endpoint hosts end in .invalid and never resolve; only the proxy maps them to the
 * loopback fakes, so a request that reaches a fake went through the proxy.
 *
 * The child runs the TypeScript sources (ts-node, transpile only), not a bundle: the proxy choice is
 * made from the environment at client creation (and by @actions/github when it is loaded), so it has to
 * be a fresh process with that environment.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { startLoopback, Loopback, queryResponse } from '../support/loopback';
import { ROOT } from '../support/bundle';

interface ProxiedRequest {
  /** CONNECT (a tunnel) or the method of an absolute-form request. */
  method: string;
  /** host:port the client asked the proxy for. */
  target: string;
}

interface LoopbackProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/** A forward proxy for tests: CONNECT tunnels and absolute-form HTTP, *.invalid hosts mapped to 127.0.0.1. */
async function startProxy(): Promise<LoopbackProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const resolve = (host: string) => (host.endsWith('.invalid') ? '127.0.0.1' : host);
  const server = http.createServer((req, res) => {
    if (!/^https?:\/\//.test(req.url ?? '')) {
      requests.push({ method: req.method ?? 'GET', target: `not absolute-form: ${req.url}` });
      res.writeHead(400).end('a proxy needs absolute-form requests');
      return;
    }
    const url = new URL(req.url ?? '');
    requests.push({ method: req.method ?? 'GET', target: url.host });
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: resolve(url.hostname), port: Number(url.port || 80), method: req.method, path: `${url.pathname}${url.search}`, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => res.writeHead(502).end(String(err)));
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    requests.push({ method: 'CONNECT', target });
    const at = target.lastIndexOf(':');
    const upstream = net.connect(Number(target.slice(at + 1)), resolve(target.slice(0, at)), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const CREDENTIALS =
  '<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>' +
  '<SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>';

/** One STS call through awsClient, one GitHub call through githubClient; prints what each returned or threw. */
const CHILD = `
const { awsClient } = require('./src/core/aws');
const { githubClient } = require('./src/core/github');
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
const failure = (e) => ({ error: [e.name, e.code, e.message, e.cause && e.cause.code].filter(Boolean).join(' ') });
(async () => {
  const aws = await awsClient(STSClient, { region: 'us-east-1' }).send(new GetCallerIdentityCommand({}))
    .then((r) => ({ account: r.Account }), failure);
  const github = await (await githubClient('ghs_token')).rest.issues.listComments({ owner: 'acme', repo: 'models', issue_number: 7 })
    .then((r) => ({ comments: r.data.length }), failure);
  process.stdout.write(JSON.stringify({ aws, github }));
})();
`;

interface ChildResult {
  aws: { account?: string; error?: string };
  github: { comments?: number; error?: string };
}

function runChild(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', CHILD], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AWS_REGION: 'us-east-1', MODEL_DEPLOY_MAX_ATTEMPTS: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as ChildResult);
      } catch {
        reject(new Error(`child exited ${code}: ${stdout}\n${stderr}`));
      }
    });
  });
}

let proxy: LoopbackProxy;
let aws: Loopback;
let github: Loopback;
let dir: string;
let awsUrl: string;
let githubUrl: string;

beforeAll(async () => {
  proxy = await startProxy();
  aws = await startLoopback((req) => {
    if (req.operation === 'AssumeRoleWithWebIdentity') return queryResponse('AssumeRoleWithWebIdentity', CREDENTIALS, STS_NS);
    if (req.operation === 'GetCallerIdentity') {
      return queryResponse('GetCallerIdentity', '<Account>111111111111</Account><Arn>arn:aws:sts::111111111111:assumed-role/deploy/s</Arn><UserId>u</UserId>', STS_NS);
    }
    return undefined;
  });
  github = await startLoopback((req) => (req.method === 'GET' && req.path.startsWith('/repos/acme/models/issues/7/comments') ? { body: [{ id: 1, body: 'hi' }] } : undefined));
  awsUrl = aws.url.replace('127.0.0.1', 'aws.invalid');
  githubUrl = github.url.replace('127.0.0.1', 'github.invalid');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-proxy-'));
  fs.writeFileSync(path.join(dir, 'token'), 'oidc-token');
});

beforeEach(() => {
  proxy.requests.length = 0;
  aws.requests.length = 0;
  github.requests.length = 0;
});

afterAll(async () => {
  await Promise.all([proxy?.close(), aws?.close(), github?.close()]);
});

const staticCredentials = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('proxies (HTTPS_PROXY / HTTP_PROXY / NO_PROXY)', () => {
  it('routes the AWS call, the credential chain and the GitHub call through the proxy', async () => {
    const result = await runChild({
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      AWS_ENDPOINT_URL: awsUrl,
      GITHUB_API_URL: githubUrl,
      // No keys: the SDK's chain assumes the role with web identity, with its own STS client.
      AWS_WEB_IDENTITY_TOKEN_FILE: path.join(dir, 'token'),
      AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/deploy',
    });
    expect(result).toEqual({ aws: { account: '111111111111' }, github: { comments: 1 } });
    expect(aws.calls()).toEqual(['AssumeRoleWithWebIdentity', 'GetCallerIdentity']);
    expect(github.requests.map((r) => r.path.split('?')[0])).toEqual(['/repos/acme/models/issues/7/comments']);
    const awsHost = new URL(awsUrl).host;
    const githubHost = new URL(githubUrl).host;
    // Plain http: the SDK's agent sends absolute-form requests, one per call; GitHub's undici client tunnels.
    expect(proxy.requests.filter((r) => r.target === awsHost).map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(proxy.requests.filter((r) => r.target === githubHost).map((r) => r.method)).toEqual(['CONNECT']);
    expect(proxy.requests).toHaveLength(3);
  });

  it('lower-case variables win, and https endpoints are tunnelled with CONNECT', async () => {
    const result = await runChild({
      ...staticCredentials,
      https_proxy: proxy.url,
      HTTPS_PROXY: 'http://127.0.0.1:9', // discard port: unused when https_proxy is set
      AWS_ENDPOINT_URL: awsUrl.replace('http:', 'https:'),
      GITHUB_API_URL: githubUrl.replace('http:', 'https:'),
    });
    // The fakes speak plain HTTP, so TLS fails after the tunnel: what matters is who asked for which tunnel.
    expect(result.aws.error).toBeDefined();
    expect(result.github.error).toBeDefined();
    expect(proxy.requests).toEqual([
      { method: 'CONNECT', target: new URL(awsUrl).host },
      { method: 'CONNECT', target: new URL(githubUrl).host },
    ]);
  });

  it('NO_PROXY hosts are connected directly', async () => {
    const result = await runChild({
      ...staticCredentials,
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: 'example.com, .invalid',
      AWS_ENDPOINT_URL: awsUrl,
      GITHUB_API_URL: githubUrl,
    });
    // Direct means resolving the .invalid names ourselves, which fails: nothing reached the proxy.
    expect(result.aws.error).toMatch(/ENOTFOUND|getaddrinfo/);
    expect(result.github.error).toMatch(/ENOTFOUND|getaddrinfo|fetch failed/);
    expect(proxy.requests).toEqual([]);
    expect(aws.requests).toEqual([]);
    expect(github.requests).toEqual([]);
  });

  it('NO_PROXY is per host: the bypassed host goes direct, the other through the proxy', async () => {
    const result = await runChild({
      ...staticCredentials,
      HTTP_PROXY: proxy.url,
      no_proxy: `github.invalid:${new URL(githubUrl).port}`,
      AWS_ENDPOINT_URL: awsUrl,
      GITHUB_API_URL: githubUrl,
    });
    expect(result.aws).toEqual({ account: '111111111111' });
    expect(result.github.error).toMatch(/ENOTFOUND|getaddrinfo|fetch failed/);
    expect(proxy.requests).toEqual([{ method: 'POST', target: new URL(awsUrl).host }]);
  });
});
