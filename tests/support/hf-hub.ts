/**
 * A loopback Hugging Face Hub answering the two calls model-deploy makes, with the Hub's shapes:
 *  - GET /api/models/{owner}/{name}/revision/{rev}?blobs=true: huggingface_hub's ModelInfo JSON
 *    (`id`, `sha`, `siblings` [{rfilename, blobId, size, lfs}], `safetensors` {parameters, total}, ...);
 *    an unknown repository is 404 {"error": "Repository not found"} with X-Error-Code RepoNotFound, an
 *    unknown revision 404 {"error": "Invalid rev id: <rev>"} with X-Error-Code RevisionNotFound;
 *  - GET /{owner}/{name}/resolve/{rev}/config.json: the file; a gated model without a token is 401
 *    with X-Error-Code GatedRepo, as huggingface_hub's hf_raise_for_status reads it.
 * Point HF_ENDPOINT at `url`. Every request is recorded (authorization header included, for the
 * tests that check the token is sent and never printed).
 */
import { Loopback, RecordedRequest, Reply, startLoopback } from './loopback';

export interface FakeModel {
  /** Branch or tag → commit SHA; a 40-hex revision is itself a commit when it is one of these values. */
  refs: Record<string, string>;
  /** safetensors parameter counts per dtype ({ BF16: 7615616512 }); absent for a repository with only .bin files. */
  parameters?: Record<string, number>;
  /** Weight files and their sizes. */
  files?: Record<string, number>;
  config: Record<string, unknown>;
  /** Files need a token (the model info stays public, as on the Hub). */
  gated?: boolean;
}

/** Qwen2.5-7B-Instruct's figures as the Hub gives them (model info and config.json). */
export const QWEN_7B: FakeModel = {
  refs: { main: 'a09a35458c702b33eeacc393d103063234e8bc28' },
  parameters: { BF16: 7615616512 },
  files: {
    'model-00001-of-00004.safetensors': 3945441440,
    'model-00002-of-00004.safetensors': 3864726352,
    'model-00003-of-00004.safetensors': 3864726424,
    'model-00004-of-00004.safetensors': 3556377672,
  },
  config: {
    architectures: ['Qwen2ForCausalLM'],
    hidden_size: 3584,
    max_position_embeddings: 32768,
    model_type: 'qwen2',
    num_attention_heads: 28,
    num_hidden_layers: 28,
    num_key_value_heads: 4,
    torch_dtype: 'bfloat16',
  },
};

/** Llama-3.1-70B-Instruct: gated, 141 GB of bf16 weights. */
export const LLAMA_70B: FakeModel = {
  refs: { main: '945c8663693130f8be2ee66210e062158b2a9693' },
  parameters: { BF16: 70553706496 },
  config: {
    architectures: ['LlamaForCausalLM'],
    head_dim: 128,
    hidden_size: 8192,
    max_position_embeddings: 131072,
    model_type: 'llama',
    num_attention_heads: 64,
    num_hidden_layers: 80,
    num_key_value_heads: 8,
    torch_dtype: 'bfloat16',
  },
  gated: true,
};

export interface FakeHub extends Loopback {
  models: Record<string, FakeModel>;
}

function errorReply(status: number, code: string, message: string): Reply {
  return { status, headers: { 'x-error-code': code, 'x-error-message': message }, body: { error: message } };
}

function commitOf(model: FakeModel, revision: string): string | undefined {
  return model.refs[revision] ?? (Object.values(model.refs).includes(revision) ? revision : undefined);
}

function modelInfo(id: string, model: FakeModel, sha: string): object {
  const files = Object.entries(model.files ?? {}).map(([rfilename, size], i) => ({
    rfilename,
    blobId: `${i}`.padStart(40, '0'),
    size,
    lfs: { sha256: `${i}`.padStart(64, '0'), size, pointerSize: 135 },
  }));
  const total = Object.values(model.parameters ?? {}).reduce((a, b) => a + b, 0);
  return {
    _id: '66e2f5a0a3b0c0d1e2f3a4b5',
    id,
    modelId: id,
    author: id.split('/')[0],
    sha,
    lastModified: '2024-09-25T12:33:00.000Z',
    private: false,
    disabled: false,
    gated: model.gated ? 'manual' : false,
    pipeline_tag: 'text-generation',
    library_name: 'transformers',
    tags: ['transformers', 'safetensors', 'text-generation'],
    config: { architectures: model.config.architectures, model_type: model.config.model_type },
    siblings: [{ rfilename: '.gitattributes', blobId: 'a'.repeat(40), size: 1519 }, { rfilename: 'config.json', blobId: 'b'.repeat(40), size: 663 }, ...files],
    spaces: [],
    createdAt: '2024-09-16T11:55:40.000Z',
    ...(model.parameters ? { safetensors: { parameters: model.parameters, total } } : {}),
  };
}

export async function startFakeHub(models: Record<string, FakeModel>): Promise<FakeHub> {
  const handle = (req: RecordedRequest): Reply => {
    const url = new URL(req.path, 'http://hub');
    const info = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const [, id = '', rawRevision = ''] = info ?? resolve ?? [];
    const model = models[id];
    if (!model) return errorReply(404, 'RepoNotFound', 'Repository not found');
    const revision = decodeURIComponent(rawRevision);
    const sha = commitOf(model, revision);
    if (!sha) return errorReply(404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    if (info) return { body: modelInfo(id, model, sha) };
    if (resolve?.[3] !== 'config.json') return errorReply(404, 'EntryNotFound', 'Entry not found');
    if (model.gated && !req.headers.authorization) {
      return errorReply(401, 'GatedRepo', `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
    }
    return { headers: { 'x-repo-commit': sha, etag: `"${sha.slice(0, 16)}"` }, body: JSON.stringify(model.config) };
  };
  const loopback = await startLoopback(handle);
  return Object.assign(loopback, { models });
}
