/**
 * Fail fast on the real reason (#23.2): while the endpoint, task or instance starts, its logs are read
 * (CloudWatch Logs FilterLogEvents on the SageMaker endpoint's log group, the ECS awslogs group, the EC2
 * instances' group) and a line that says the model can never start ends the wait with the excerpt and
 * the fix, instead of waiting out the health-check timeout and a rollback with no reason.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeployError, errorMessage, isNotFound } from '../core/errors';
import { isThrottling, isTransient } from '../core/poll';

export interface FatalPattern {
  id: string;
  pattern: RegExp;
  /** What it means, in words. */
  what: string;
  fix: string;
  /** Lines it must match before it counts (a crash loop is a crash that repeats). */
  times?: number;
}

export const FATAL_PATTERNS: readonly FatalPattern[] = [
  { id: 'cuda-oom', pattern: /CUDA out of memory|torch\.(cuda\.)?OutOfMemoryError|No available memory for the cache blocks/i, what: 'the model does not fit in GPU memory', fix: 'Pick an instance type with more GPU memory (or more GPUs with tensor parallelism), lower the maximum context length, or serve a quantized model.' },
  { id: 'no-space', pattern: /No space left on device/i, what: 'the disk is full', fix: "Raise the instance's volume size (the model and its download need room twice over), or use an instance with local NVMe storage." },
  { id: 'hub-denied', pattern: /(401|403) Client Error.*huggingface\.co|GatedRepoError|Cannot access gated repo|Access to model \S+ is restricted/i, what: 'the Hugging Face Hub refused the model (gated or private)', fix: 'Accept the model licence on its Hub page with the account of the token, and give the deployment a Hub token that can read it.' },
  { id: 'hub-missing', pattern: /404 Client Error.*huggingface\.co|RepositoryNotFoundError|Repository Not Found for url/i, what: 'the Hugging Face Hub has no such model', fix: 'Check the model id (owner/name, case included) and revision in the spec.' },
  { id: 'weights-missing', pattern: /No such file or directory: '[^']*\.(safetensors|bin|pt|gguf)'|Cannot find any model weights|no (model )?weights? (files? )?found|does not appear to have a file named \S+\.(safetensors|bin)/i, what: 'the weight files are not where the engine looks', fix: 'Check the model data location (model-data-url / model.s3): the folder must hold config.json and the weight files, not a tarball of them or a parent folder.' },
  { id: 'unsupported-arch', pattern: /Model architectures? \[[^\]]*\] (is|are) not supported|architecture \S+ is not supported|Unrecognized model in|does not recognize this architecture/i, what: 'the engine does not support this model architecture', fix: 'Use an engine version that supports the architecture (a newer image), or another engine for this model.' },
  { id: 'wrong-port', pattern: /address already in use|EADDRINUSE|bind\(\) to \S+ failed/i, what: 'the server could not listen on its port', fix: 'The engine must listen on 127.0.0.1:8081 behind the gateway on 8080: check the engine command and its --port in the spec or the image.' },
  { id: 'crash-loop', pattern: /Engine process (exited|died)|engine exited with|EngineDeadError|Worker process (died|exited) unexpectedly/i, what: 'the engine keeps crashing', fix: 'Read the lines before each crash in the log excerpt; the first error there is the cause.', times: 3 },
];

export interface FatalFinding {
  pattern: FatalPattern;
  excerpt: string[];
  group: string;
}

/** The first fatal pattern in these lines (a repeated one once it reached its count), with the lines around it. */
export function findFatal(lines: string[], counts = new Map<string, number>()): { pattern: FatalPattern; index: number } | undefined {
  for (let i = 0; i < lines.length; i++) {
    for (const p of FATAL_PATTERNS) {
      if (!p.pattern.test(lines[i] ?? '')) continue;
      const n = (counts.get(p.id) ?? 0) + 1;
      counts.set(p.id, n);
      if (n >= (p.times ?? 1)) return { pattern: p, index: i };
    }
  }
  return undefined;
}

/** Follows one log group from a start time, one FilterLogEvents per look; a group that does not exist yet is no finding. */
export class FatalLogWatch {
  private nextToken?: string;
  private readonly counts = new Map<string, number>();
  private readonly recent: string[] = [];
  private off = false;
  requests = 0;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly group: () => Promise<string | undefined>,
    private readonly startTime: number,
    /** Said once when the logs cannot be read (no permission): the deploy goes on without them. */
    private readonly warn: (message: string) => void,
  ) {}

  async check(): Promise<FatalFinding | undefined> {
    if (this.off) return undefined;
    const group = await this.group();
    if (!group) return undefined;
    let out;
    try {
      this.requests++;
      out = await this.logs.send(new FilterLogEventsCommand({ logGroupName: group, startTime: this.startTime, nextToken: this.nextToken, limit: 1000 }));
    } catch (err) {
      // The group appears when the first container starts; the logs are a help, never a reason to fail.
      if (isNotFound(err) || isThrottling(err) || isTransient(err)) return undefined;
      this.off = true;
      this.warn(`Not following the start-up logs in ${group}: ${errorMessage(err)}. The deploy waits for the health check alone.`);
      return undefined;
    }
    if (out.nextToken) this.nextToken = out.nextToken;
    const lines = (out.events ?? []).map((e) => (e.message ?? '').replace(/\r?\n$/, ''));
    const hit = findFatal(lines, this.counts);
    this.recent.push(...lines);
    if (!hit) {
      this.recent.splice(0, Math.max(0, this.recent.length - 20));
      return undefined;
    }
    const at = this.recent.length - lines.length + hit.index;
    return { pattern: hit.pattern, group, excerpt: this.recent.slice(Math.max(0, at - 5), at + 3) };
  }
}

/** The error a finding becomes: what, the excerpt, the fix, and where the whole log is. */
export function fatalLogError(f: FatalFinding, state: string): DeployError {
  return new DeployError(`The model cannot start: ${f.pattern.what} (log group ${f.group}):\n${f.excerpt.map((l) => `  ${l}`).join('\n')}`, {
    title: `Model start-up failed: ${f.pattern.what}`,
    hint: `${f.pattern.fix}\n${state}`,
  });
}
