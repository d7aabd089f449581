/**
 * model-deploy benchmark: the measurement for any OpenAI-compatible URL, from a terminal or a job.
 * The key is read from an environment variable named by --api-key-env, never from a flag (flags land
 * in shell history and process lists), and is masked by the reporter before the first request.
 */
import { DeployError, errorMessage } from '../core/errors';
import type { Reporter } from '../core/log';
import { discoverModel, hasControlCharacter, openAiClient } from './client-openai';
import { filePrompts } from './prompts';
import { bestStep, pricePerformance, PricePerformance } from './price-performance';
import type { Currency } from '../prices/currency';
import { benchmarkJson, renderText } from './render';
import { defaultWorkers, spreadOverWorkers } from './parallel';
import { runBenchmark } from './runner';
import { redact } from './types';
import { resolveWorkload } from './workload';

export const BENCHMARK_USAGE = `Usage:
  model-deploy benchmark --url URL [--api-key-env NAME] [--model NAME]
      [--concurrency N | --request-rate R | --concurrency-steps 1,4,16] [--requests N]
      [--prompt-tokens P] [--output-tokens G] [--max-duration SECONDS]
      [--p95-ttft-ms MS] [--p95-e2el-ms MS] [--target-rpm N]
      [--prompts-file FILE] [--price-per-hour AMOUNT] [--currency USD|CNY] [--ignore-eos true|false]
      [--workers N] [--json]

  Streams chat completions from an OpenAI-compatible server (vLLM, SGLang, TGI, the model-deploy
  gateway) and prints the metrics as \`vllm bench serve\` defines them. Bounded: it stops after
  --requests requests per load level or --max-duration seconds, whichever comes first.

  --url             base URL of the server: https://host, http://127.0.0.1:8000 (or .../v1)
  --api-key-env     name of the environment variable holding the key (sent as authorization: Bearer)
  --model           served model name (default: the first one /v1/models lists)
  --concurrency     requests kept in flight (default 8); or --request-rate per second (Poisson arrivals)
  --concurrency-steps  run once per level, e.g. 1,4,16,64
  --requests        requests per load level (default 64)
  --prompt-tokens   synthetic prompt length (default 512); --output-tokens answer length (default 128)
  --prompts-file    prompts from a file under the current directory: one a line, or JSON lines {"prompt": "..."}
  --p95-ttft-ms, --p95-e2el-ms   latency objective (default p95 TTFT 2000 ms); goodput counts requests within it
  --price-per-hour  instance price, to print $ per 1M output tokens and the instances --target-rpm needs
  --workers         worker threads the streams are spread over (1: the command's own thread). Default: one
                    per 256 streams, up to the cores less one. Raise it when the result warns that the
                    client fell behind.
  --json            print the result JSON (vLLM's field names) after the table
`;

const FLAGS = [
  'url', 'api-key-env', 'model', 'concurrency', 'request-rate', 'concurrency-steps', 'requests', 'prompt-tokens', 'output-tokens',
  'max-duration', 'p95-ttft-ms', 'p95-e2el-ms', 'target-rpm', 'price-per-hour', 'currency', 'ignore-eos', 'json', 'help', 'instances', 'prompts-file',
  'workers',
] as const;
/** More threads than this only add switching on any machine a benchmark client runs on. */
const MAX_WORKERS = 64;
const BOOLEAN = new Set(['json', 'help']);

export function parseBenchmarkFlags(args: string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  const rest = [...args];
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    if (arg === '-h') {
      flags.help = 'true';
      continue;
    }
    if (!arg.startsWith('--')) throw new DeployError(`unexpected argument "${arg}"`, { hint: 'Flags look like --name value. Run model-deploy benchmark --help.' });
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (!(FLAGS as readonly string[]).includes(name)) {
      throw new DeployError(`unknown flag --${name}`, { hint: `Flags: ${FLAGS.map((f) => `--${f}`).join(', ')}.` });
    }
    const next = rest[0];
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else if (BOOLEAN.has(name)) value = next === 'true' || next === 'false' ? rest.shift() : 'true';
    else if (next === undefined || next.startsWith('--')) throw new DeployError(`--${name} needs a value`, { hint: 'Run model-deploy benchmark --help.' });
    else value = rest.shift();
    flags[name] = value ?? 'true';
  }
  return flags;
}

function number(flags: Record<string, string>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new DeployError(`--${name} is "${v}", which is not a number`, { hint: 'Run model-deploy benchmark --help.' });
  return n;
}

export interface BenchmarkCommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Stops the run (the CLI passes one tied to SIGINT). */
  signal?: AbortSignal;
  /** The file worker threads run (default: this process's main script, the CLI). */
  workerScript?: string;
}

/** Runs the command; 0 when requests completed, 1 when none did, 2 for a usage or setup error. */
export async function benchmarkCommand(argv: string[], reporter: Reporter, options: BenchmarkCommandOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  let key: string | undefined;
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  const external = options.signal;
  if (external) external.addEventListener('abort', () => controller.abort(external.reason), { once: true });
  else process.once('SIGINT', onSigint);
  try {
    const flags = parseBenchmarkFlags(argv);
    if (flags.help === 'true') {
      reporter.info(BENCHMARK_USAGE);
      return 0;
    }
    if (flags['api-key-env'] !== undefined) {
      const name = flags['api-key-env'];
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new DeployError(`--api-key-env "${name}" is not an environment variable name`, { hint: 'Give the NAME of the variable holding the key (e.g. MODEL_API_KEY), not the key.' });
      key = env[name];
      if (!key) throw new DeployError(`--api-key-env ${name}: the variable is not set or empty`, { hint: `export ${name}=... (the key), then run again.` });
      reporter.setSecret(key);
      // The key goes into a header line written by hand: a line break in it would end the field. Refused before anything is sent.
      if (hasControlCharacter(key)) throw new DeployError(`--api-key-env ${name}: the key holds a control character (a trailing newline?)`, { hint: `Set ${name} to the key alone, without a line break.` });
    }
    if (!flags.url) throw new DeployError('--url is required', { hint: 'The base URL of an OpenAI-compatible server: --url http://127.0.0.1:8000' });
    const steps = flags['concurrency-steps']?.split(',').map((s) => Number(s.trim()));
    const objective: Record<string, number> = {};
    const ttft = number(flags, 'p95-ttft-ms');
    const e2el = number(flags, 'p95-e2el-ms');
    if (ttft !== undefined) objective.p95TtftMs = ttft;
    if (e2el !== undefined) objective.p95E2elMs = e2el;
    const workload = resolveWorkload(
      {
        promptTokens: number(flags, 'prompt-tokens'),
        outputTokens: number(flags, 'output-tokens'),
        concurrency: number(flags, 'concurrency'),
        requestRate: number(flags, 'request-rate'),
        requests: number(flags, 'requests'),
        maxDurationSeconds: number(flags, 'max-duration'),
        objective: Object.keys(objective).length ? objective : undefined,
        targetRequestsPerMinute: number(flags, 'target-rpm'),
        concurrencySteps: steps,
        promptsFile: flags['prompts-file'],
      },
      { path: 'benchmark' },
    );
    const currency = (flags.currency ?? 'USD').toUpperCase();
    if (currency !== 'USD' && currency !== 'CNY') throw new DeployError(`--currency is "${flags.currency}"`, { hint: 'USD or CNY.' });
    const hourly = number(flags, 'price-per-hour');
    if (hourly !== undefined && !(hourly >= 0)) throw new DeployError(`--price-per-hour is "${flags['price-per-hour']}"`, { hint: 'The price of one instance-hour, a number ≥ 0.' });
    const instances = number(flags, 'instances') ?? 1;
    if (!Number.isInteger(instances) || instances < 1) throw new DeployError(`--instances is "${flags.instances}"`, { hint: 'The number of instances behind the URL, a whole number ≥ 1.' });
    const ignoreEos = flags['ignore-eos'] === undefined ? true : flags['ignore-eos'] !== 'false';
    const asked = number(flags, 'workers');
    const workers = asked ?? defaultWorkers();
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
      throw new DeployError(`--workers is "${flags.workers}"`, { hint: `The worker threads to spread the streams over, a whole number from 1 to ${MAX_WORKERS} (1: this thread only).` });
    }

    const model = flags.model ?? (await discoverModel(flags.url, key, controller.signal));
    const clientOptions = { baseUrl: flags.url, apiKey: key, model, ignoreEos, requestTimeoutMs: workload.maxDurationSeconds * 1000 };
    const client = openAiClient(clientOptions);
    const prompts = workload.promptsFile ? filePrompts(workload.promptsFile, process.cwd()) : undefined;
    const levelRunner = workers > 1 ? spreadOverWorkers({ workers, exact: asked !== undefined, client: clientOptions, workload, promptsFile: workload.promptsFile, cwd: process.cwd(), script: options.workerScript }) : undefined;
    const run = await runBenchmark({ client, workload, reporter, secrets: [key], signal: controller.signal, prompts, levelRunner }).finally(() => client.close?.());
    let price: PricePerformance | undefined;
    const priced = bestStep(run.steps, workload.objective);
    if (hourly !== undefined && priced) {
      price = pricePerformance(priced.metrics, { amount: hourly, currency: currency as Currency }, { targetRequestsPerMinute: workload.targetRequestsPerMinute, objective: workload.objective, instances });
    }
    for (const line of renderText(run, { price, pricedStep: priced }).trimEnd().split('\n')) reporter.info(line);
    if (flags.json === 'true') reporter.info(JSON.stringify(benchmarkJson(run, { price, pricedStep: priced, model }), null, 2));
    return run.steps.length > 0 && run.steps.every((s) => s.metrics.completed > 0) ? 0 : 1;
  } catch (err) {
    // A message may quote a header value (an invalid key is echoed by fetch): never print the key.
    if (err instanceof DeployError) {
      reporter.error(redact(err.describe(), [key]), err.location, err.title);
      return 2;
    }
    reporter.error(redact(errorMessage(err), [key]), undefined, 'Unexpected error');
    return 1;
  } finally {
    if (!external) process.removeListener('SIGINT', onSigint);
  }
}
