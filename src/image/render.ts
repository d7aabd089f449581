/**
 * Everything that determines a serving image, rendered offline: the Dockerfile (per engine, or the
 * user's own), the buildspec, the files of the source bundle, and the content-addressed tag.
 * No AWS here: the plan uses it as is, and build-model checks it all before its first call.
 */
import { sha256Hex } from '../core/hash';
import * as fs from 'fs';
import * as path from 'path';
import { DeployError, DeployErrors, SourceLocation } from '../core/errors';
import { repositoryName } from '../config/names';
import type { Deployment } from '../config/types';
import { customDlcBase, engineOf, resolveEngine, ResolvedEngine, servingRoutes } from './engines';
import { compareText } from '../core/compare';

export interface BundleFile {
  path: string;
  content: Buffer;
  mode?: number;
}

export interface RenderOptions {
  region: string;
  /** Repository checkout holding templates/ (default: found from this module's location). */
  root?: string;
  /** Folder of the spec file: engine.dockerfile is relative to it. */
  specDir?: string;
  /** Where to point errors (the spec's positions when known). */
  locate?: (p: (string | number)[]) => SourceLocation;
}

export interface RenderedBuild {
  engine: ResolvedEngine;
  /** Path of the Dockerfile inside the bundle. */
  dockerfilePath: string;
  dockerfile: string;
  buildspec: string;
  /** Absolute path of the user's Dockerfile (engine custom). */
  customDockerfile?: string;
  files: BundleFile[];
  /** Content-addressed image tag. */
  tag: string;
  /** Where the weights live or go (relative to the artifact prefix), or the user's S3 URI. */
  weights: { kind: 'huggingface'; key: string } | { kind: 's3'; uri: string } | { kind: 'baked' } | { kind: 'none' };
}

/** Our files in the bundle live under this folder, so a custom build context keeps its own names. */
export const BUNDLE_DIR = 'model-deploy';
const MAX_CONTEXT_BYTES = 200 * 1024 * 1024;

const ECR_REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The repository checkout the action runs from: dist/build-model/flow/index.js and dist/cli/index.js
 * are two and three levels down, src/image/ (tests) two.
 */
export function templatesRoot(start: string = __dirname): string {
  const candidates = [path.resolve(start, '..', '..', '..'), path.resolve(start, '..', '..')];
  const marker = ['templates', 'build', 'buildspec.yml'];
  const found = candidates.find((c) => fs.existsSync(path.join(c, ...marker)));
  if (!found) {
    throw new DeployError(`cannot find templates/build/ near ${start}`, {
      title: 'Installation incomplete',
      hint: 'The action needs its repository checkout (templates/ beside dist/); run it from the published action, not a copied bundle.',
    });
  }
  return found;
}

// Templates are read-only parts of the action: read once per run (an estimate renders a build for every
// changed deployment, base and head).
const templateCache = new Map<string, string>();
function readTemplate(root: string, ...parts: string[]): string {
  const file = path.join(root, 'templates', ...parts);
  let text = templateCache.get(file);
  if (text === undefined) {
    text = fs.readFileSync(file, 'utf8');
    templateCache.set(file, text);
  }
  return text;
}

/** Problems ECR, Docker or Hugging Face would reject, found before any AWS call. */
export function validateBuild(d: Deployment, options: Pick<RenderOptions, 'locate'> = {}): void {
  const at = (...p: (string | number)[]) => options.locate?.(['deployments', d.name, ...p]) ?? d.source;
  const problems: DeployError[] = [];
  const bad = (message: string, location: SourceLocation, hint: string) =>
    problems.push(new DeployError(`deployments.${d.name}: ${message}`, { location, hint, title: 'Invalid build input' }));
  engineOf(d);
  const repo = repositoryName(d);
  if (repo.length < 2 || repo.length > 256 || !ECR_REPOSITORY.test(repo)) {
    bad(
      `the ECR repository name "${repo}" (project/deployment) is not valid for ECR`,
      at(),
      'ECR names are lower-case letters and digits separated by single ".", "_", "-" or "/": no doubled or trailing separators. Rename the project or deployment.',
    );
  }
  const hf = d.model.huggingface;
  if (hf) {
    const [owner, name, ...rest] = hf.id.split('/');
    const part = (s: string | undefined) => !!s && /^[A-Za-z0-9][\w.-]*$/.test(s) && !/(--|\.\.)/.test(s) && !/[.-]$/.test(s);
    if (rest.length > 0 || !part(owner) || !part(name) || hf.id.length > 96) {
      bad(
        `model.huggingface.id "${hf.id}" is not a Hugging Face model id`,
        at('model', 'huggingface', 'id'),
        'Use owner/name as on the Hub, for example Qwen/Qwen2.5-7B-Instruct (letters, digits, ".", "_", "-"; no "--" or "..").',
      );
    }
  }
  if (d.engine?.name === 'lmi' && d.engine.args && d.engine.args.length > 0) {
    bad('engine.args is not used by lmi', at('engine', 'args'), 'Configure LMI with engine.env OPTION_* variables, for example OPTION_MAX_MODEL_LEN: "8192".');
  }
  for (const key of Object.keys(d.engine?.env ?? {})) {
    if (!ENV_NAME.test(key)) bad(`engine.env name "${key}" is not a valid environment variable name`, at('engine', 'env'), 'Use letters, digits and underscores, not starting with a digit.');
  }
  for (const key of Object.keys(d.build.args ?? {})) {
    if (!ENV_NAME.test(key)) bad(`build.args name "${key}" is not a valid Docker build argument`, at('build', 'args'), 'Use letters, digits and underscores, not starting with a digit.');
  }
  if (d.model.image) bad('model.image names a prebuilt image: there is nothing to build', at('model', 'image'), 'Remove model.image to build an image, or skip build-model for this deployment.');
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new DeployErrors(problems);
}

/** A word the shell reads back unchanged. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A value inside a Dockerfile ENV "..." (no build-time $ substitution). */
function dockerString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n');
}

function fill(template: string, values: Record<string, string>, name: string): string {
  const out = template
    .split('\n')
    // A placeholder alone on its line disappears with the line when empty.
    .filter((line) => {
      const only = /^\{\{(\w+)\}\}$/.exec(line.trim())?.[1];
      return only === undefined || (values[only] ?? '') !== '';
    })
    .join('\n')
    .replace(/\{\{(\w+)\}\}/g, (m, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`template ${name} uses unknown placeholder ${m}`);
      return value;
    });
  return out;
}

export function servedModelName(d: Deployment): string {
  return d.model.huggingface?.id ?? d.name;
}

export function renderDockerfile(d: Deployment, engine: ResolvedEngine, root: string): string {
  if (engine.name === 'custom') throw new Error('custom engines use their own Dockerfile');
  const args = (d.engine?.args ?? []).map(shellQuote).join(' ');
  // The Neuron defaults (tensor-parallel degree) first: the user's engine.env overrides them.
  const env = Object.entries({ ...engine.neuronEnv, ...d.engine?.env })
    .sort(([a], [b]) => compareText(a, b))
    .map(([k, v]) => `ENV ${k}="${dockerString(v)}"`)
    .join('\n');
  const name = `build/Dockerfile.${engine.name}`;
  return fill(readTemplate(root, 'build', `Dockerfile.${engine.name}`), {
    ENGINE_VERSION: engine.version,
    BASE_IMAGE: engine.baseImage ?? '',
    SERVED_MODEL_NAME: dockerString(shellQuote(servedModelName(d))),
    ENGINE_ARGS: args ? ` ${dockerString(args)}` : '',
    ENGINE_ENV: env,
    BAKED_WEIGHTS: d.model.bakeIntoImage ? 'COPY weights/ /opt/ml/model/' : '',
  }, name);
}

/** A value inside a YAML double-quoted scalar: JSON's string escapes are YAML's. */
function yamlQuoted(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/**
 * The buildspec: templates/build/buildspec.yml with its "{{NAME}}" values filled. Text, not a YAML
 * round trip: the estimate renders it for every changed deployment to compare image tags.
 */
export function renderBuildspec(d: Deployment, dockerfilePath: string, root: string): string {
  const hf = d.model.huggingface;
  const args = d.build.args ?? {};
  const buildArgs = Object.keys(args)
    .sort()
    .map((k) => `--build-arg ${shellQuote(`${k}=${args[k] ?? ''}`)}`)
    .join(' ');
  const values: Record<string, string> = {
    DOCKERFILE: dockerfilePath,
    MODEL_SOURCE: hf ? 'huggingface' : d.model.s3 ? 's3' : 'none',
    MODEL_ID: hf?.id ?? '',
    MODEL_REVISION: hf?.revision ?? '',
    MODEL_S3_URI: d.model.s3 ?? '',
    BAKE_WEIGHTS: d.model.bakeIntoImage ? 'true' : 'false',
    DOCKER_BUILD_ARGS: buildArgs,
  };
  const template = readTemplate(root, 'build', 'buildspec.yml');
  const filled = template.replace(/"\{\{(\w+)\}\}"/g, (m, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template build/buildspec.yml uses unknown placeholder ${m}`);
    return `"${yamlQuoted(value)}"`;
  });
  // The token is resolved by CodeBuild inside the build and masked in its logs; we only name the secret.
  if (!hf?.tokenSecretArn) return filled;
  return filled.replace('\n  exported-variables:', `\n  secrets-manager:\n    HF_TOKEN: "${yamlQuoted(hf.tokenSecretArn)}"\n  exported-variables:`);
}

function walk(dir: string, base = dir, out: { rel: string; abs: string }[] = []): { rel: string; abs: string }[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === '.git' || entry.name === 'node_modules') continue;
    const abs = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(abs, base, out);
    else if (entry.isFile()) out.push({ rel: path.relative(base, abs).split(path.sep).join('/'), abs });
  }
  return out;
}

function readFiles(dir: string, prefix: string): BundleFile[] {
  let total = 0;
  return walk(dir).map(({ rel, abs }) => {
    const content = fs.readFileSync(abs);
    total += content.length;
    if (total > MAX_CONTEXT_BYTES) {
      throw new DeployError(`the build context ${dir} is over ${MAX_CONTEXT_BYTES / 1024 / 1024} MB`, {
        title: 'Build context too large',
        hint: 'Put the custom Dockerfile in a folder of its own; weights belong in model.huggingface or model.s3, not the build context.',
      });
    }
    const mode = fs.statSync(abs).mode & 0o777;
    return { path: prefix ? `${prefix}/${rel}` : rel, content, mode: mode & 0o111 ? 0o755 : 0o644 };
  });
}

/** What the serving gateway (nginx, templates/serving/nginx.conf) is rendered with. */
export interface GatewaySettings {
  /** Address and port nginx listens on. */
  listen: string;
  /** The engine, host:port. */
  upstream: string;
  /** The engine's health route (/ping and this path answer from it). */
  healthPath: string;
  /** The engine route SageMaker's POST /invocations goes to. */
  invocationsPath: string;
  workerProcesses: number;
  /** Per worker; a stream takes two. */
  workerConnections: number;
  /** Requests in progress one client address may have; past it, 503. */
  maxRequestsPerPeer: number;
  /** The whole request head (request line and header fields): past it, 431. */
  maxHeadBytes: number;
  /** From accept to the end of the request head. */
  headerTimeoutSeconds: number;
  /** The longest pause while a body is read. */
  bodyTimeoutSeconds: number;
  maxBodyBytes: number;
  /** The longest pause in an engine's answer (a stream's next token). */
  upstreamTimeoutSeconds: number;
  healthTimeoutSeconds: number;
  /** Kept-alive engine connections per worker. */
  upstreamKeepalive: number;
  /** After a reload, old workers finish their streams for up to this long. */
  drainSeconds: number;
  accessLog: boolean;
}

/** The image's gateway: every engine listens on 127.0.0.1:8081 behind it. */
export const GATEWAY_DEFAULTS: GatewaySettings = {
  listen: '0.0.0.0:8080',
  upstream: '127.0.0.1:8081',
  healthPath: '/health',
  invocationsPath: '/v1/chat/completions',
  workerProcesses: 2,
  workerConnections: 8192,
  maxRequestsPerPeer: 1024,
  maxHeadBytes: 32 * 1024,
  headerTimeoutSeconds: 10,
  bodyTimeoutSeconds: 10,
  maxBodyBytes: 25 * 1024 * 1024,
  upstreamTimeoutSeconds: 3600,
  healthTimeoutSeconds: 5,
  upstreamKeepalive: 256,
  drainSeconds: 600,
  accessLog: true,
};

const ROUTE_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const HOST_PORT = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * templates/serving/nginx.conf with its placeholders filled. Every value is checked first, so nothing a
 * setting holds can end a directive or open a block: a bad value is a clear error, never a broken config.
 */
export function renderGatewayConfig(root: string, overrides: Partial<GatewaySettings> = {}): string {
  const s: GatewaySettings = { ...GATEWAY_DEFAULTS, ...overrides };
  const problems: string[] = [];
  for (const key of ['listen', 'upstream'] as const) {
    const port = Number(HOST_PORT.exec(s[key])?.[1] ?? 0);
    if (!(port >= 1 && port <= 65535)) problems.push(`${key} "${s[key]}" is not host:port (an IP address or host name, and a port 1-65535)`);
  }
  for (const key of ['healthPath', 'invocationsPath'] as const) {
    if (!ROUTE_PATH.test(s[key]) || s[key].includes('..')) problems.push(`${key} "${s[key]}" is not an absolute path of letters, digits and . _ ~ / -`);
  }
  const counts: [keyof GatewaySettings, number][] = [
    ['workerProcesses', 64],
    ['workerConnections', 1 << 20],
    ['maxRequestsPerPeer', 1 << 20],
    ['headerTimeoutSeconds', 3600],
    ['bodyTimeoutSeconds', 3600],
    ['maxBodyBytes', 2 ** 40],
    ['upstreamTimeoutSeconds', 86400],
    ['healthTimeoutSeconds', 3600],
    ['upstreamKeepalive', 1 << 16],
    ['drainSeconds', 86400],
  ];
  for (const [key, max] of counts) {
    const value = s[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) problems.push(`${key} ${String(value)} is not a whole number from 1 to ${max}`);
  }
  if (!Number.isInteger(s.maxHeadBytes) || s.maxHeadBytes < 2048 || s.maxHeadBytes > 1 << 20 || s.maxHeadBytes % 1024 !== 0) {
    problems.push(`maxHeadBytes ${s.maxHeadBytes} is not a whole number of KiB from 2 KiB to 1 MiB`);
  }
  if (problems.length > 0) {
    throw new DeployError(`the serving gateway's settings are not valid: ${problems.join('; ')}`, {
      title: 'Invalid gateway settings',
      hint: 'These come from the engine (its health and invocation routes) and the gateway defaults; fix the value named.',
    });
  }
  return fill(readTemplate(root, 'serving', 'nginx.conf'), {
    WORKER_PROCESSES: String(s.workerProcesses),
    WORKER_CONNECTIONS: String(s.workerConnections),
    WORKER_RLIMIT_NOFILE: String(2 * s.workerConnections + 64),
    DRAIN_SECONDS: String(s.drainSeconds),
    ACCESS_LOG: s.accessLog ? '/dev/stderr md_access' : 'off',
    MAX_HEAD_KIB: String(s.maxHeadBytes / 1024),
    HEADER_TIMEOUT_SECONDS: String(s.headerTimeoutSeconds),
    BODY_TIMEOUT_SECONDS: String(s.bodyTimeoutSeconds),
    MAX_BODY_BYTES: String(s.maxBodyBytes),
    PEER_ZONE: '10m',
    UPSTREAM: s.upstream,
    UPSTREAM_KEEPALIVE: String(s.upstreamKeepalive),
    LISTEN: s.listen,
    MAX_REQUESTS_PER_PEER: String(s.maxRequestsPerPeer),
    UPSTREAM_TIMEOUT_SECONDS: String(s.upstreamTimeoutSeconds),
    HEALTH_TIMEOUT_SECONDS: String(s.healthTimeoutSeconds),
    HEALTH_PATH: s.healthPath,
    HEALTH_PATH_PATTERN: s.healthPath.replace(/[.]/g, '\\.'),
    INVOCATIONS_PATH: s.invocationsPath,
  }, 'serving/nginx.conf');
}

/**
 * The serving files every built-in image copies to /opt/model-deploy/: templates/serving/ with nginx.conf
 * rendered for the engine's routes.
 */
const servingCache = new Map<string, BundleFile[]>();
export function servingFiles(root: string, routes: Pick<GatewaySettings, 'healthPath' | 'invocationsPath'> = GATEWAY_DEFAULTS): BundleFile[] {
  const cacheKey = `${root}\0${routes.healthPath}\0${routes.invocationsPath}`;
  const cached = servingCache.get(cacheKey);
  if (cached) return cached;
  const dir = path.join(root, 'templates', 'serving');
  const files = fs.existsSync(dir) ? readFiles(dir, `${BUNDLE_DIR}/serving`) : [];
  if (!files.some((f) => f.path === `${BUNDLE_DIR}/serving/serve.sh`)) {
    throw new DeployError(`templates/serving/serve.sh is missing from ${root}`, {
      title: 'Installation incomplete',
      hint: 'The serving image needs the gateway files in templates/serving/ of the action checkout.',
    });
  }
  const config = Buffer.from(renderGatewayConfig(root, { healthPath: routes.healthPath, invocationsPath: routes.invocationsPath }));
  const out = files.map((f) =>
    f.path === `${BUNDLE_DIR}/serving/nginx.conf` ? { ...f, content: config } : f.path.endsWith('.sh') ? { ...f, mode: 0o755 } : f,
  );
  servingCache.set(cacheKey, out);
  return out;
}

/** Identifies the weights: rebuilding the image for a new Dockerfile reuses the same S3 prefix. */
export function weightsKey(d: Deployment): string | undefined {
  const hf = d.model.huggingface;
  return hf ? sha256Hex(`huggingface:${hf.id}@${hf.revision}`).slice(0, 16) : undefined;
}

/** The weights an image is built for: part of its tag's identity. */
function modelIdentity(d: Deployment): string | null {
  const hf = d.model.huggingface;
  return hf ? `${hf.id}@${hf.revision}` : (d.model.s3 ?? null);
}

/**
 * True when two deployments cannot render one image: another engine, other weights or baking differ,
 * and each is part of the tag's identity (renderBuild), so their tags differ without rendering either.
 */
export function rendersOtherImage(a: Deployment, b: Deployment): boolean {
  return (a.engine?.name ?? null) !== (b.engine?.name ?? null) || modelIdentity(a) !== modelIdentity(b) || Boolean(a.model.bakeIntoImage) !== Boolean(b.model.bakeIntoImage);
}

export function renderBuild(d: Deployment, options: RenderOptions): RenderedBuild {
  validateBuild(d, options);
  const root = options.root ?? templatesRoot();
  let engine = resolveEngine(d, options.region);
  const files: BundleFile[] = [];
  let dockerfilePath: string;
  let dockerfile: string;
  let customDockerfile: string | undefined;
  if (engine.name === 'custom') {
    const specDir = options.specDir ?? path.dirname(path.resolve(d.source.file));
    customDockerfile = path.resolve(specDir, d.engine!.dockerfile!);
    if (!fs.existsSync(customDockerfile)) {
      throw new DeployError(`deployments.${d.name}: engine.dockerfile "${d.engine!.dockerfile}" does not exist`, {
        location: options.locate?.(['deployments', d.name, 'engine', 'dockerfile']) ?? d.source,
        title: 'Invalid build input',
        hint: `Looked for ${customDockerfile}; paths are relative to the spec file.`,
      });
    }
    // The Dockerfile's folder is the build context, as with `docker build -f Dockerfile .` there.
    const context = path.dirname(customDockerfile);
    files.push(...readFiles(context, '').filter((f) => !f.path.startsWith(`${BUNDLE_DIR}/`)));
    dockerfilePath = path.basename(customDockerfile);
    dockerfile = fs.readFileSync(customDockerfile, 'utf8');
    const dlc = customDlcBase(dockerfile, options.region);
    if (dlc) engine = { ...engine, fromDlc: true, baseRepository: dlc.repository };
  } else {
    dockerfilePath = `${BUNDLE_DIR}/Dockerfile`;
    dockerfile = renderDockerfile(d, engine, root);
    files.push({ path: dockerfilePath, content: Buffer.from(dockerfile) });
  }
  const buildspec = renderBuildspec(d, dockerfilePath, root);
  files.push({ path: `${BUNDLE_DIR}/buildspec.yml`, content: Buffer.from(buildspec) });
  files.push({ path: `${BUNDLE_DIR}/weights.sh`, content: Buffer.from(readTemplate(root, 'build', 'weights.sh')), mode: 0o755 });
  files.push(...servingFiles(root, servingRoutes(engine.name)));

  const hf = d.model.huggingface;
  const identity = {
    engine: `${engine.name}@${engine.version}`,
    baseImage: engine.baseImage ?? null,
    model: modelIdentity(d),
    bake: d.model.bakeIntoImage,
    buildArgs: Object.entries(d.build.args ?? {}).sort(([a], [b]) => compareText(a, b)),
    files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => [f.path, f.mode ?? 0o644, sha256Hex(f.content)]),
  };
  const tag = `md-${sha256Hex(JSON.stringify(identity)).slice(0, 40)}`;
  const weights: RenderedBuild['weights'] = d.model.bakeIntoImage
    ? { kind: 'baked' }
    : hf
      ? { kind: 'huggingface', key: weightsKey(d)! }
      : d.model.s3
        ? { kind: 's3', uri: d.model.s3 }
        : { kind: 'none' };
  return { engine, dockerfilePath, dockerfile, buildspec, customDockerfile, files, tag, weights };
}
