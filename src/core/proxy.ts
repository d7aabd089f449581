/**
 * Proxies as the runner sets them for self-hosted runners: HTTPS_PROXY for https requests, HTTP_PROXY
 * for http ones (lower case wins over upper case, as in curl), NO_PROXY to go direct.
 *
 * One rule for every request: `proxyFor()` asks @actions/http-client's getProxyUrl, the same function
 * @actions/github's client routes GitHub calls by, so an AWS call and a GitHub call to the same host
 * are routed alike. NO_PROXY is a comma list of host names (a name also covers its subdomains),
 * `.suffix`, `host:port`, IP addresses as written, or `*`; loopback hosts always go direct.
 *
 * Without a proxy variable nothing here loads anything: AWS clients keep the SDK's default handler.
 */
import type * as http from 'http';
import type { NodeHttpHandlerOptions } from '@smithy/types';
import { DeployError } from './errors';

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;

/**
 * The `http-proxy` input: sets every proxy variable (lower case too, which would otherwise win) for the
 * step, after masking its password. The value is never put in an error: it may hold credentials.
 */
export function applyProxyInput(value: string | undefined, env: NodeJS.ProcessEnv, mask: (secret: string) => void): void {
  if (!value) return;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.password) mask(decodeURIComponent(url.password));
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname) {
    throw new DeployError('input `http-proxy` is not an http or https proxy URL', {
      title: 'Invalid input',
      hint: 'Write it as http://host:port, or http://user:password@host:port (the password is masked). SOCKS proxies are not supported.',
    });
  }
  for (const name of PROXY_VARIABLES) env[name] = value;
}

/** True when any proxy variable is set (cheap: no module is loaded). */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name]));
}

/** The proxy URL a request to `url` must go through, or undefined to connect directly. */
export function proxyFor(url: string | URL): string | undefined {
  if (!proxyConfigured()) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getProxyUrl } = require('@actions/http-client') as typeof import('@actions/http-client');
  const proxy = getProxyUrl(String(url));
  if (!proxy) return undefined;
  // "proxy.corp:3128" parses as a URL with the scheme "proxy.corp:"; curl reads it as http://.
  return /^https?:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

/** host:port as a URL authority (IPv6 addresses in brackets). */
function origin(secure: boolean, host: string, port: number | undefined): string {
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${secure ? 'https' : 'http'}://${name}${port ? `:${port}` : ''}`;
}

interface Delegate {
  /** Not in @types/node, but how Node hands a request to its agent (the proxy agents rely on it too). */
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void;
}
let RoutingAgent: (new (secure: boolean) => http.Agent) | undefined;

/**
 * An agent that hands each request, as Node creates it, to a proxy agent (https: a CONNECT tunnel
 * through https-proxy-agent; http: absolute-form requests through http-proxy-agent) or to a plain
 * keep-alive agent, by `proxyFor()` on the request's host. Handing over before the request writes
 * anything lets each of those agents work exactly as if the request had named it. Built on first use,
 * so its modules load only when a proxy is configured.
 */
function routingAgentClass(): new (secure: boolean) => http.Agent {
  if (RoutingAgent) return RoutingAgent;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const https = require('https') as typeof import('https');
  const httpModule = require('http') as typeof import('http');
  /* eslint-enable @typescript-eslint/no-require-imports */
  RoutingAgent = class extends httpModule.Agent {
    private readonly direct: http.Agent;
    private readonly viaProxy = new Map<string, http.Agent>();
    constructor(private readonly secure: boolean) {
      super({ keepAlive: true });
      (this as { protocol?: string }).protocol = secure ? 'https:' : 'http:';
      this.direct = new (secure ? https : httpModule).Agent({ keepAlive: true, maxSockets: 50 });
    }
    addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
      (this.route(options) as unknown as Delegate).addRequest(req, options);
    }
    private route(options: http.RequestOptions): http.Agent {
      const host = options.hostname ?? options.host ?? 'localhost';
      const proxy = proxyFor(origin(this.secure, host, options.port ? Number(options.port) : undefined));
      if (!proxy) return this.direct;
      let agent = this.viaProxy.get(proxy);
      if (!agent) {
        /* eslint-disable @typescript-eslint/no-require-imports */
        agent = this.secure
          ? new (require('https-proxy-agent') as typeof import('https-proxy-agent')).HttpsProxyAgent(proxy, { keepAlive: true })
          : new (require('http-proxy-agent') as typeof import('http-proxy-agent')).HttpProxyAgent(proxy, { keepAlive: true });
        /* eslint-enable @typescript-eslint/no-require-imports */
        this.viaProxy.set(proxy, agent);
      }
      return agent;
    }
    override destroy(): void {
      super.destroy();
      this.direct.destroy();
      for (const agent of this.viaProxy.values()) agent.destroy();
    }
  };
  return RoutingAgent;
}

/**
 * The SDK request handler for a new AWS client: undefined (the SDK's default) when no proxy variable is
 * set, otherwise the options of the SDK's own NodeHttpHandler (the client builds it from them), with
 * agents that route each connection by `proxyFor()`.
 */
export function proxyRequestHandler(): NodeHttpHandlerOptions | undefined {
  if (!proxyConfigured()) return undefined;
  const Routing = routingAgentClass();
  return { httpAgent: new Routing(false), httpsAgent: new Routing(true) };
}
