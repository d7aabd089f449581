/**
 * One way to make AWS clients: the region, adaptive retries, a user agent naming the project, the
 * standard credential chain (or credentials from an assumed role). The SDK itself honours
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which is how tests point real clients at a
 * loopback server. With HTTPS_PROXY / HTTP_PROXY set, every client (and the STS client the SDK's
 * credential chain makes from it for web identity) connects through the proxy, NO_PROXY aside.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, NodeHttpHandlerOptions } from '@smithy/types';
import { proxyRequestHandler } from './proxy';
import { PROJECT, VERSION } from './version';

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export interface AwsContext {
  region: string;
  /** Absent: the SDK's default chain (env, web identity, profile, container, instance). */
  credentials?: Credentials;
  /** Human label for messages: "dev (111111111111)". */
  label?: string;
}

export interface ClientConfig {
  region: string;
  credentials?: Credentials;
  maxAttempts: number;
  retryMode: 'adaptive';
  customUserAgent: [string, string][];
  /** Present only when a proxy variable is set (src/core/proxy.ts); otherwise the SDK's default handler. */
  requestHandler?: NodeHttpHandlerOptions;
}

export function clientConfig(ctx: AwsContext): ClientConfig {
  const config: ClientConfig = {
    region: ctx.region,
    maxAttempts: Number(process.env.MODEL_DEPLOY_MAX_ATTEMPTS ?? 6),
    retryMode: 'adaptive',
    customUserAgent: [[PROJECT, VERSION]],
  };
  if (ctx.credentials) config.credentials = ctx.credentials;
  const requestHandler = proxyRequestHandler();
  if (requestHandler) config.requestHandler = requestHandler;
  return config;
}

type ClientCtor<C> = new (config: ClientConfig) => C;

/** Clients are reused per (class, region, credentials) within one run. */
const cache = new WeakMap<object, Map<string, unknown>>();
const credentialIds = new WeakMap<object, number>();
let nextCredentialId = 1;

function credentialKey(credentials?: Credentials): string {
  if (!credentials) return 'default';
  let id = credentialIds.get(credentials as object);
  if (!id) {
    id = nextCredentialId++;
    credentialIds.set(credentials as object, id);
  }
  return `c${id}`;
}

export function awsClient<C>(Ctor: ClientCtor<C>, ctx: AwsContext): C {
  let byKey = cache.get(Ctor);
  if (!byKey) {
    byKey = new Map();
    cache.set(Ctor, byKey);
  }
  const key = `${ctx.region}|${credentialKey(ctx.credentials)}`;
  let client = byKey.get(key) as C | undefined;
  if (!client) {
    client = metered(new Ctor(clientConfig(ctx)));
    byKey.set(key, client);
  }
  return client;
}

let sent = 0;

/** Requests sent by the clients awsClient made, since the process began (per-stage counts are differences). */
export function requestsSent(): number {
  return sent;
}

/**
 * Counts each send. The class's send is looked up at call time (not captured), so a stub put on the
 * prototype later (aws-sdk-client-mock) is still what runs.
 */
function metered<C>(client: C): C {
  const c = client as unknown as { send: (...args: unknown[]) => unknown };
  const proto = Object.getPrototypeOf(c) as { send: (...args: unknown[]) => unknown };
  c.send = (...args: unknown[]) => {
    sent++;
    return proto.send.apply(c, args);
  };
  return client;
}

/** The partitions this project deploys to. */
export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type Partition = (typeof PARTITIONS)[number];

export function isPartition(value: string): value is Partition {
  return (PARTITIONS as readonly string[]).includes(value);
}

/** aws, aws-cn or aws-us-gov, from the region name. */
export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function dnsSuffix(region: string): string {
  return partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}
