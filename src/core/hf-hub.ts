/**
 * The Hugging Face Hub's public API, read-only: a model's info at a revision (the commit SHA it
 * resolves to, the safetensors parameter counts, the files and their sizes) and its config.json.
 * The endpoint is HF_ENDPOINT (as huggingface_hub reads it; default the public Hub), a gated model
 * needs HF_TOKEN (sent as a Bearer token, never printed), HF_HUB_OFFLINE=1 makes no call at all.
 * Requests go through @actions/http-client, so HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply as to every
 * other call (src/core/proxy.ts). A Hub that cannot be reached is `HubUnreachable`: the caller says
 * "not checked" and goes on; a model or revision that does not exist is a DeployError.
 */
import { DeployError } from './errors';
import { loadHttpClient } from './http-client';
import { PROJECT, VERSION } from './version';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
/** A Hub that does not answer within this is treated as offline: a plan must not hang on it. */
const TIMEOUT_MS = 15_000;

/** GET /api/models/{repo}/revision/{rev}?blobs=true, the fields read here (huggingface_hub's ModelInfo). */
export interface HubModelInfo {
  id: string;
  /** The commit the revision resolves to. */
  sha: string;
  /** Parameter counts per dtype ({ BF16: 7615616512 }) and their total. */
  safetensors?: { parameters: Record<string, number>; total: number };
  /** The repository's files; `size` in bytes with blobs=true. */
  siblings?: { rfilename: string; size?: number }[];
}

/** The fields of a transformers config.json the memory check reads (names as transformers writes them). */
export interface HubModelConfig {
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  hidden_size?: number;
  head_dim?: number;
  torch_dtype?: string;
  max_position_embeddings?: number;
  /** Multimodal models nest the language model's numbers here. */
  text_config?: HubModelConfig;
}

/** The Hub could not be asked (offline, HF_HUB_OFFLINE, a timeout, a refused connection). */
export class HubUnreachable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubUnreachable';
  }
}

/** The Hub refused a token-less (or under-privileged) read: a gated or private model. */
export class HubRefused extends DeployError {
  constructor(message: string, hint: string) {
    super(message, { title: 'Hugging Face model not readable', hint });
    this.name = 'HubRefused';
  }
}

export interface HubOptions {
  env?: NodeJS.ProcessEnv;
}

export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
}

/** huggingface_hub's truthy values of HF_HUB_OFFLINE. */
export function hubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE ?? '');
}

const quoteRevision = (revision: string) => encodeURIComponent(revision);

async function getJson<T>(url: string, what: string, options: HubOptions): Promise<T> {
  const env = options.env ?? process.env;
  if (hubOffline(env)) throw new HubUnreachable('HF_HUB_OFFLINE is set');
  const { HttpClient } = await loadHttpClient();
  const client = new HttpClient(`${PROJECT}/${VERSION}`, [], { allowRetries: false, socketTimeout: TIMEOUT_MS });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (env.HF_TOKEN) headers.authorization = `Bearer ${env.HF_TOKEN}`;
  let status: number;
  let body: string;
  try {
    const response = await client.get(url, headers);
    status = response.message.statusCode ?? 0;
    body = await response.readBody();
  } catch (err) {
    throw new HubUnreachable(`${hubEndpoint(env)} did not answer (${(err as Error).message})`, { cause: err });
  } finally {
    client.dispose();
  }
  if (status === 401 || status === 403) {
    throw new HubRefused(
      `the Hugging Face Hub refused to read ${what} (HTTP ${status}): the model is gated or private`,
      env.HF_TOKEN
        ? 'The token in HF_TOKEN has no access to it: accept the model\'s licence on the Hub with that account, or use a token that has.'
        : 'Set HF_TOKEN to a token of an account that accepted the model\'s licence (the build reads it from model.huggingface.tokenSecretArn).',
    );
  }
  if (status === 404) {
    const error = safeError(body);
    throw new DeployError(`the Hugging Face Hub has no ${what}${error ? ` (${error})` : ''}`, {
      title: 'Hugging Face model not found',
      hint: 'Check model.huggingface.id (owner/name as on the Hub) and model.huggingface.revision (a commit SHA, tag or branch of that repository).',
    });
  }
  if (status >= 500 || status === 429) throw new HubUnreachable(`${hubEndpoint(env)} answered HTTP ${status}`);
  if (status < 200 || status >= 300) throw new DeployError(`the Hugging Face Hub answered HTTP ${status} for ${what}`, { title: 'Hugging Face Hub error' });
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new HubUnreachable(`${hubEndpoint(env)} answered ${what} with something that is not JSON`);
  }
}

/** The Hub's {"error": "..."} message, short, with no echo of anything we sent. */
function safeError(body: string): string | undefined {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    return typeof error === 'string' ? error.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

/** Model info at a revision, with file sizes (huggingface_hub's model_info(files_metadata=True)). */
export async function hubModelInfo(repo: string, revision: string, options: HubOptions = {}): Promise<HubModelInfo> {
  const url = `${hubEndpoint(options.env)}/api/models/${repo}/revision/${quoteRevision(revision)}?blobs=true`;
  const info = await getJson<HubModelInfo>(url, `model ${repo} at revision ${revision}`, options);
  if (typeof info.sha !== 'string') throw new HubUnreachable(`${hubEndpoint(options.env)} answered the model info of ${repo} without a sha`);
  return info;
}

/** config.json at a revision (pass the commit SHA: the file of that commit). */
export async function hubModelConfig(repo: string, revision: string, options: HubOptions = {}): Promise<HubModelConfig> {
  const url = `${hubEndpoint(options.env)}/${repo}/resolve/${quoteRevision(revision)}/config.json`;
  return getJson<HubModelConfig>(url, `config.json of ${repo} at ${revision}`, options);
}

/** A 40-hex commit SHA: the only revision that names the same weights forever. */
export function isCommitSha(revision: string | undefined): boolean {
  return /^[0-9a-f]{40}$/.test(revision ?? '');
}
