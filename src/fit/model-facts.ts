/**
 * What the memory check knows about a deployment's model: the weights' size, their dtype, and the
 * numbers of its config.json (layers, heads, head size, context length). The spec's own fields come
 * first (model.sizeGb, model.parameters with model.dtype, model.architecture: no network needed);
 * the Hugging Face Hub fills in the rest for a huggingface source, at the commit the revision
 * resolves to. A Hub that cannot be reached leaves the gaps open, with the reason.
 */
import type { Deployment } from '../config/types';
import { HubModelConfig, HubModelInfo, HubOptions, HubRefused, HubUnreachable, hubModelConfig, hubModelInfo, isCommitSha } from '../core/hf-hub';

export type WeightsDtype = NonNullable<Deployment['model']['dtype']>;

export const DTYPE_BYTES: Record<WeightsDtype, number> = { fp32: 4, bf16: 2, fp16: 2, fp8: 1, int8: 1, int4: 0.5 };

/** Bytes per parameter of each safetensors dtype (the keys of the Hub's safetensors.parameters). */
const SAFETENSORS_BYTES: Record<string, number> = { F64: 8, F32: 4, BF16: 2, F16: 2, F8_E4M3: 1, F8_E5M2: 1, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

const TORCH_DTYPES: Record<string, WeightsDtype> = { float32: 'fp32', bfloat16: 'bf16', float16: 'fp16' };

export interface ModelArchitecture {
  layers?: number;
  attentionHeads?: number;
  kvHeads?: number;
  headDim?: number;
  contextLength?: number;
}

export interface ModelFacts extends ModelArchitecture {
  /** Bytes of weights the engine loads; undefined when nothing said. */
  weightsBytes?: number;
  dtype: WeightsDtype;
  /** Where the figures come from ("the spec", "the Hub at <sha>"). */
  from: string[];
  /** The commit a Hugging Face revision resolved to, when the Hub was asked. */
  sha?: string;
  /** Why part of the check could not be done (offline, no figures). */
  gaps: string[];
  /** Why a branch or tag could not be resolved to its commit (the Hub was not reached). */
  unresolved?: string;
}

/** One object of a listing of the weights' S3 location. */
export interface WeightsObject {
  key: string;
  size: number;
}

export interface FactsOptions extends HubOptions {
  /** The Hub's answers for a repo@revision, shared by every deployment of a run. */
  cache?: Map<string, Promise<HubAnswers>>;
  /**
   * Lists an S3 location (every object under a prefix, or the one object): given where AWS
   * credentials are held (the plan role in the estimate, the deploy role in deploy-endpoint), it sizes
   * model.s3 weights the spec gives no sizeGb for. Without it (validate, plan, a fork's estimate):
   * "not checked: offline".
   */
  listS3?: (url: string, region: string) => Promise<WeightsObject[]>;
}

interface HubAnswers {
  info: HubModelInfo;
  config?: HubModelConfig;
  /** config.json was refused (a gated model, no token here) while the model info is public. */
  refused?: HubRefused;
}

const needsArchitecture = (a: ModelArchitecture) => a.layers === undefined || a.kvHeads === undefined || a.headDim === undefined || a.attentionHeads === undefined || a.contextLength === undefined;

/** The model's facts from the spec alone. */
export function specFacts(d: Deployment): ModelFacts {
  const m = d.model;
  const dtype = m.dtype ?? 'bf16';
  const weightsBytes = m.sizeGb !== undefined ? m.sizeGb * 1e9 : m.parameters !== undefined ? m.parameters * DTYPE_BYTES[dtype] : undefined;
  const a = m.architecture ?? {};
  const given = weightsBytes !== undefined || Object.keys(a).length > 0;
  return { ...a, weightsBytes, dtype, from: given ? ['the spec'] : [], gaps: [] };
}

/** config.json's numbers (a multimodal model's are under text_config). */
export function architectureOf(config: HubModelConfig): ModelArchitecture & { dtype?: WeightsDtype } {
  const c = { ...config, ...config.text_config };
  const heads = c.num_attention_heads;
  return {
    layers: c.num_hidden_layers,
    attentionHeads: heads,
    kvHeads: c.num_key_value_heads ?? heads,
    headDim: c.head_dim ?? (c.hidden_size !== undefined && heads ? c.hidden_size / heads : undefined),
    contextLength: c.max_position_embeddings,
    dtype: TORCH_DTYPES[c.torch_dtype ?? ''],
  };
}

/**
 * The bytes of the weight files among a model's files (Hub siblings, S3 objects): safetensors when
 * there are any (a repository may hold both formats; engines load those), else PyTorch .bin/.pt/.pth,
 * else a model.tar.gz archive (weights barely compress); undefined when none is there. GGUF files are
 * not counted: a folder of them usually holds one per quantisation, and their sum is no model's size.
 */
export function weightFilesBytes(files: readonly { name: string; size?: number }[]): number | undefined {
  const sized = files.filter((f) => typeof f.size === 'number');
  for (const re of [/\.safetensors$/, /\.(bin|pt|pth)$/, /\.tar(\.gz)?$/]) {
    const weights = sized.filter((f) => re.test(f.name));
    if (weights.length > 0) return weights.reduce((sum, f) => sum + (f.size ?? 0), 0);
  }
  return undefined;
}

/** Weights' bytes from the model info: safetensors parameter counts, else the weight files' sizes. */
export function hubWeightsBytes(info: HubModelInfo): number | undefined {
  const params = info.safetensors?.parameters;
  if (params && Object.keys(params).length > 0) {
    return Object.entries(params).reduce((sum, [dtype, n]) => sum + n * (SAFETENSORS_BYTES[dtype] ?? 2), 0);
  }
  // Archives are an S3 layout: on the Hub only safetensors and PyTorch files count.
  return weightFilesBytes((info.siblings ?? []).filter((f) => !/\.tar(\.gz)?$/.test(f.rfilename)).map((f) => ({ name: f.rfilename, size: f.size })));
}

/** model.s3's weights listed with the credentials at hand; the gap says why not when they cannot be. */
async function s3WeightsFacts(d: Deployment, facts: ModelFacts, options: FactsOptions): Promise<void> {
  const url = d.model.s3 ?? '';
  if (!options.listS3) {
    facts.gaps.push(`memory not checked: offline (the size of ${url} is listed only with AWS credentials: the plan role in the pull request's estimate, the deploy role in deploy-endpoint); give model.sizeGb to check it here`);
    return;
  }
  let objects: WeightsObject[];
  try {
    objects = await options.listS3(url, d.regions[0] ?? 'us-east-1');
  } catch (err) {
    facts.gaps.push(`memory not checked: ${url} could not be listed (${err instanceof Error ? err.message : String(err)}); give model.sizeGb`);
    return;
  }
  const bytes = weightFilesBytes(objects.map((o) => ({ name: o.key, size: o.size })));
  if (bytes === undefined) {
    facts.gaps.push(`memory not checked: ${url} holds ${objects.length ? `${objects.length} objects and no weight file (.safetensors, .bin, .pt, model.tar.gz)` : 'no object'}; give model.sizeGb`);
    return;
  }
  facts.weightsBytes = bytes;
  facts.from.push(`S3 (the weight files under ${url})`);
}

async function askHub(id: string, revision: string, withConfig: boolean, options: FactsOptions): Promise<HubAnswers> {
  const key = `${id}@${revision}@${withConfig}`;
  let answer = options.cache?.get(key);
  if (!answer) {
    answer = (async () => {
      const info = await hubModelInfo(id, revision, options);
      if (!withConfig) return { info };
      // The config of the very commit the info describes.
      try {
        return { info, config: await hubModelConfig(id, info.sha, options) };
      } catch (err) {
        if (err instanceof HubRefused) return { info, refused: err };
        throw err;
      }
    })();
    options.cache?.set(key, answer);
  }
  return answer;
}

/**
 * The model's facts: the spec's, completed by the Hub for a huggingface source when the spec leaves
 * something out or the revision is not a commit SHA (the SHA is then resolved).
 */
export async function modelFacts(d: Deployment, options: FactsOptions = {}): Promise<ModelFacts> {
  const facts = specFacts(d);
  const hf = d.model.huggingface;
  if (!hf) {
    if (facts.weightsBytes === undefined && d.model.s3) await s3WeightsFacts(d, facts, options);
    else if (facts.weightsBytes === undefined) facts.gaps.push('memory not checked: the weights are in the prebuilt image; give model.sizeGb');
    return facts;
  }
  const revision = hf.revision ?? 'main';
  const missingWeights = facts.weightsBytes === undefined;
  const missingArchitecture = needsArchitecture(facts);
  if (!missingWeights && !missingArchitecture && isCommitSha(revision)) return facts;
  try {
    const { info, config, refused } = await askHub(hf.id, revision, missingArchitecture, options);
    // A gated model's files: the build reads them with model.huggingface.tokenSecretArn; here without a token
    // they are not checked (said), and with neither the build would fail the same way (refused).
    if (refused && !hf.tokenSecretArn) throw refused;
    if (refused) facts.gaps.push(`KV cache and tensor-parallel heads not checked: ${refused.message}; set HF_TOKEN (the build uses model.huggingface.tokenSecretArn), or give model.architecture`);
    facts.sha = info.sha;
    const from = `the Hub (${hf.id} at ${info.sha.slice(0, 12)})`;
    if (missingWeights) facts.weightsBytes = hubWeightsBytes(info);
    if (config) {
      const hub = architectureOf(config);
      for (const k of ['layers', 'attentionHeads', 'kvHeads', 'headDim', 'contextLength'] as const) facts[k] ??= hub[k];
      if (!d.model.dtype && hub.dtype) facts.dtype = hub.dtype;
    }
    if (missingWeights || missingArchitecture) facts.from.push(from);
    if (facts.weightsBytes === undefined) facts.gaps.push(`memory not checked: the Hub lists no weight sizes for ${hf.id}; give model.sizeGb`);
  } catch (err) {
    if (!(err instanceof HubUnreachable)) throw err;
    facts.unresolved = `offline (${err.message})`;
    const what = missingWeights ? 'memory' : 'KV cache and tensor-parallel heads';
    const give = [missingWeights && 'model.sizeGb', missingArchitecture && 'model.architecture'].filter(Boolean).join(' and ');
    if (give) facts.gaps.push(`${what} not checked: offline (${err.message}); give ${give} to check without the Hub`);
  }
  return facts;
}
