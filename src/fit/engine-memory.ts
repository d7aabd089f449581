/**
 * How each engine uses accelerator memory, read from the deployment's engine settings the way the
 * engine reads them: vLLM's and TGI's command-line flags (engine.args), TGI's and LMI's environment
 * variables (engine.env). Defaults are the engines' own (vLLM engine arguments, TGI launcher
 * arguments, LMI's OPTION_* configuration), for the versions src/image/engines.ts builds.
 */
import type { Deployment } from '../config/types';
import { neuronCores } from '../config/instance-types';

export interface EngineMemory {
  /** The engine as the messages name it. */
  label: string;
  /** Fraction of each device's memory the engine may take (weights, runtime, KV cache). */
  utilisation: number;
  /** Devices the model is sharded across; undefined: every device of the instance. */
  tensorParallel?: number;
  /** Longest sequence (prompt + answer) the engine must hold; undefined: the model's context length. */
  maxModelLen?: number;
  /** The engine's cap on its default length (TGI 2.x: 4096), when maxModelLen is not set. */
  defaultLenCap?: number;
  /** Bytes per KV-cache element when the engine sets its own KV dtype (vLLM --kv-cache-dtype fp8). */
  kvBytes?: number;
  /** CUDA context, activations and graphs per device, GiB: an estimate, not an engine figure. */
  overheadGiB: number;
  /** The settings a user changes to fix what the check finds, in this engine's words. */
  knobs: { maxLen: string; tensorParallel: string; utilisation: string };
  /** Where the check's figures come from when the engine is not known (prebuilt image, custom engine). */
  unknown?: boolean;
}

/** Per-device runtime memory outside weights and KV cache (CUDA context, activation peak, CUDA graphs). */
const RUNTIME_OVERHEAD_GIB = 1.5;

/** The value of a flag in an argument list: `--flag value` or `--flag=value`, under any of its names. */
function flag(args: readonly string[], ...names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    for (const name of names) {
      if (arg === name) return args[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return undefined;
}

const number = (text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

const KV_DTYPE_BYTES: Record<string, number> = { fp8: 1, fp8_e4m3: 1, fp8_e5m2: 1, fp8_inc: 1, bfloat16: 2, float16: 2, half: 2, float32: 4, float: 4 };

/** The engine's memory settings for a deployment; `unknown` for a prebuilt image or a custom engine. */
export function engineMemory(d: Deployment): EngineMemory {
  const args = d.engine?.args ?? [];
  const env = d.engine?.env ?? {};
  const cores = neuronCores(d.instanceType);
  switch (d.model.image ? undefined : d.engine?.name) {
    case 'vllm':
      return {
        label: 'vLLM',
        utilisation: number(flag(args, '--gpu-memory-utilization')) ?? 0.9,
        // vLLM shards only when asked: one GPU by default, however many the instance has.
        tensorParallel: number(flag(args, '--tensor-parallel-size', '-tp')) ?? 1,
        maxModelLen: number(flag(args, '--max-model-len')),
        kvBytes: KV_DTYPE_BYTES[flag(args, '--kv-cache-dtype') ?? ''],
        overheadGiB: RUNTIME_OVERHEAD_GIB,
        knobs: { maxLen: 'engine.args --max-model-len N', tensorParallel: 'engine.args --tensor-parallel-size N', utilisation: 'engine.args --gpu-memory-utilization F' },
      };
    case 'tgi': {
      const version = d.engine?.version ?? '';
      // TGI shards across every visible GPU by default; 2.x caps its default total tokens at 4096.
      return {
        label: 'TGI',
        utilisation: number(flag(args, '--cuda-memory-fraction') ?? env.CUDA_MEMORY_FRACTION) ?? 1,
        tensorParallel: number(flag(args, '--num-shard') ?? env.NUM_SHARD) ?? cores,
        maxModelLen: number(flag(args, '--max-total-tokens') ?? env.MAX_TOTAL_TOKENS),
        defaultLenCap: /^3\./.test(version) ? undefined : 4096,
        overheadGiB: RUNTIME_OVERHEAD_GIB,
        knobs: { maxLen: 'engine.args --max-total-tokens N', tensorParallel: 'engine.args --num-shard N', utilisation: 'engine.args --cuda-memory-fraction F' },
      };
    }
    case 'lmi':
      return {
        label: 'LMI',
        utilisation: number(env.OPTION_GPU_MEMORY_UTILIZATION) ?? 0.9,
        // "max" (LMI's default): every device.
        tensorParallel: number(env.OPTION_TENSOR_PARALLEL_DEGREE) ?? cores,
        maxModelLen: number(env.OPTION_MAX_MODEL_LEN ?? env.OPTION_N_POSITIONS),
        overheadGiB: RUNTIME_OVERHEAD_GIB,
        knobs: { maxLen: 'engine.env OPTION_MAX_MODEL_LEN', tensorParallel: 'engine.env OPTION_TENSOR_PARALLEL_DEGREE', utilisation: 'engine.env OPTION_GPU_MEMORY_UTILIZATION' },
      };
    default:
      // A prebuilt image or a custom Dockerfile: only the weights against all the memory can be said.
      return {
        label: d.model.image ? 'the prebuilt image' : 'the custom engine',
        utilisation: 1,
        overheadGiB: RUNTIME_OVERHEAD_GIB,
        knobs: { maxLen: 'its maximum sequence length', tensorParallel: 'its tensor-parallel degree', utilisation: 'its memory fraction' },
        unknown: true,
      };
  }
}

/** The engine's maximum sequence length for a model of `contextLength`: its own setting, else the model's (capped). */
export function effectiveMaxLen(engine: EngineMemory, contextLength: number | undefined): number | undefined {
  if (engine.maxModelLen !== undefined) return engine.maxModelLen;
  if (contextLength === undefined || engine.defaultLenCap === undefined) return contextLength;
  return Math.min(contextLength, engine.defaultLenCap);
}
