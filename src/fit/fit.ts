/**
 * Will the model start on the instance? The two ways vLLM, TGI and LMI refuse to start: the weights
 * plus the runtime do not fit in the memory the engine may use (device memory × devices × its
 * utilisation setting), or what is left cannot hold the KV cache of one sequence at the engine's
 * maximum length. Plus the tensor-parallel degree against the devices and the attention heads, and
 * two warnings: the declared workload's concurrency does not fit in the KV cache (requests queue),
 * and the weights and runtime take over 90 % of the usable memory. Pure arithmetic, no I/O.
 */
import { Accelerators } from './accelerators';
import { EngineMemory, effectiveMaxLen } from './engine-memory';
import type { ModelFacts } from './model-facts';

const GIB = 1024 ** 3;
/** Above this share of the usable memory taken by weights and runtime, the deployment is borderline. */
export const BORDERLINE_USE = 0.9;

export interface FitProblem {
  /** The spec field the problem is said at. */
  field: 'instanceType' | 'engine' | 'model';
  message: string;
  hint?: string;
}

export interface FitLoad {
  /** Concurrent requests the workload declares. */
  concurrency?: number;
  /** Prompt plus answer tokens of one request. */
  tokensPerRequest?: number;
}

export interface FitResult {
  /** fits: starts; no-fit: refused; unknown: a figure is missing (see the facts' gaps). */
  verdict: 'fits' | 'no-fit' | 'unknown';
  errors: FitProblem[];
  warnings: FitProblem[];
  /** The figures, for the plan's line. */
  usableGiB?: number;
  neededGiB?: number;
  kvFreeGiB?: number;
  devicesUsed?: number;
}

export const gib = (bytes: number) => bytes / GIB;
const show = (n: number) => `${n.toFixed(n >= 100 ? 0 : 1)} GiB`;

/** KV-cache bytes per token: keys and values of every layer's KV heads. */
export function kvBytesPerToken(facts: ModelFacts, engine: EngineMemory): number | undefined {
  const { layers, kvHeads, headDim } = facts;
  if (layers === undefined || kvHeads === undefined || headDim === undefined) return undefined;
  const element = engine.kvBytes ?? (facts.dtype === 'fp32' ? 4 : 2);
  return 2 * layers * kvHeads * headDim * element;
}

export function checkFit(instanceType: string, acc: Accelerators, engine: EngineMemory, facts: ModelFacts, load: FitLoad = {}): FitResult {
  const errors: FitProblem[] = [];
  const warnings: FitProblem[] = [];
  const tp = engine.tensorParallel ?? acc.count;
  const unit = acc.neuron ? 'NeuronCores' : 'GPUs';
  if (tp > acc.count) {
    errors.push({
      field: 'engine',
      message: `${engine.label} is set to shard across ${tp} devices (${engine.knobs.tensorParallel}), but ${instanceType} has ${acc.count} ${unit}`,
      hint: `Set it to ${acc.count} or fewer, or use an instance type with ${tp} ${unit}.`,
    });
    return { verdict: 'no-fit', errors, warnings };
  }
  if (facts.attentionHeads !== undefined && facts.attentionHeads % tp !== 0) {
    const valid = divisorsUpTo(facts.attentionHeads, acc.count);
    errors.push({
      field: 'engine',
      message: `the model has ${facts.attentionHeads} attention heads, which do not split across ${tp} devices (${engine.knobs.tensorParallel})`,
      hint: `The tensor-parallel degree must divide the attention heads: ${valid.join(', ')} on ${instanceType}.`,
    });
  }
  if (facts.weightsBytes === undefined) return { verdict: errors.length ? 'no-fit' : 'unknown', errors, warnings };

  const usable = acc.memoryGiB * tp * engine.utilisation;
  const weights = gib(facts.weightsBytes);
  const needed = weights + engine.overheadGiB * tp;
  const figures = { usableGiB: usable, neededGiB: needed, devicesUsed: tp };
  const memory = `${tp} × ${acc.memoryGiB} GiB ${acc.device}${engine.utilisation < 1 ? ` × ${engine.utilisation} (${engine.label}'s memory utilisation)` : ''} = ${show(usable)} usable`;
  if (needed > usable) {
    const moreDevices = tp < acc.count && weights + engine.overheadGiB * acc.count <= acc.memoryGiB * acc.count * engine.utilisation;
    errors.push({
      field: 'instanceType',
      message: `the model does not fit on ${instanceType}: ${show(weights)} of weights + ${show(engine.overheadGiB * tp)} of ${engine.label} runtime = ${show(needed)}, over ${memory}`,
      hint: moreDevices ? `${instanceType} has ${acc.count} ${unit}: set ${engine.knobs.tensorParallel.replace(/ N$/, ` ${acc.count}`)} to use them all.` : undefined,
    });
    return { verdict: 'no-fit', errors, warnings, ...figures };
  }
  const kvFree = usable - needed;
  const perToken = kvBytesPerToken(facts, engine);
  const maxLen = effectiveMaxLen(engine, facts.contextLength);
  if (perToken !== undefined && maxLen !== undefined) {
    const oneSequence = gib(perToken * maxLen);
    const fitsTokens = Math.floor((kvFree * GIB) / perToken);
    if (oneSequence > kvFree) {
      errors.push({
        field: 'instanceType',
        message: `${engine.label} cannot start on ${instanceType}: one sequence of ${maxLen} tokens needs ${show(oneSequence)} of KV cache, and ${show(kvFree)} is left after the weights (${memory})`,
        hint: `Lower the maximum length to ${fitsTokens} tokens or less (${engine.knobs.maxLen}), or use a type with more accelerator memory.`,
      });
      return { verdict: 'no-fit', errors, warnings, ...figures, kvFreeGiB: kvFree };
    }
    const { concurrency, tokensPerRequest } = load;
    if (concurrency !== undefined && tokensPerRequest !== undefined) {
      const wanted = gib(perToken * tokensPerRequest * concurrency);
      if (wanted > kvFree) {
        const atOnce = Math.floor(fitsTokens / tokensPerRequest);
        warnings.push({
          field: 'instanceType',
          message: `the workload's ${concurrency} concurrent requests of ${tokensPerRequest} tokens need ${show(wanted)} of KV cache; ${show(kvFree)} is left on ${instanceType}: about ${atOnce} run at once, the rest queue`,
          hint: 'Use a type with more accelerator memory, shard across more devices, or expect the queueing in the latency.',
        });
      }
    }
  }
  if (needed / usable > BORDERLINE_USE) {
    warnings.push({
      field: 'instanceType',
      message: `the weights and runtime take ${Math.round((needed / usable) * 100)} % of the usable memory on ${instanceType} (${show(needed)} of ${show(usable)}): little is left for the KV cache`,
      hint: 'A type with more accelerator memory leaves room for longer sequences and more concurrent requests.',
    });
  }
  return { verdict: errors.length ? 'no-fit' : 'fits', errors, warnings, ...figures, kvFreeGiB: kvFree };
}

function divisorsUpTo(n: number, max: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= max; d++) if (n % d === 0) out.push(d);
  return out;
}
