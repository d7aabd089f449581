/**
 * Promoted weights at every boot (issue 20.1): the EC2 and ECS boot download exactly the versions the manifest
 * lists (not whatever is under the prefix now) and check their sizes and SHA-256; serve.sh, every target's
 * entrypoint (SageMaker's too), refuses to start the engine on a model directory that differs from the manifest.
 * The boot function is run as the templates hold it, against a stand-in `aws` that answers get-object by version.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadTemplate } from '../../../src/deploy/template-loader';

const ROOT = path.join(__dirname, '../../..');
const SERVE = path.join(ROOT, 'templates/serving/serve.sh');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const PREFIX = `acme/chat/models/abc.sha256-${'a'.repeat(64)}/`;
const URL = `s3://model-deploy-333333333333-us-east-1/${PREFIX}`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-weights-boot-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function manifest(rows: { version: string; data: Buffer; name: string; sha?: string }[]): string {
  return ['# model-deploy weights manifest v1', ...rows.map((r) => [r.version, r.sha ?? sha(r.data), r.data.length, r.name].join('\t')), ''].join('\n');
}

/** The boot function as CloudFormation's !Sub renders it (${!x} → ${x}), from one template as the deploy loads it. */
function bootFunction(template: string): string {
  const text = JSON.stringify(loadTemplate(template.replace(/\.yaml$/, '') as 'ec2' | 'ecs').template);
  const scripts: string[] = [];
  JSON.parse(text, (key, value) => (key === 'Fn::Sub' && typeof value === 'string' ? (scripts.push(value), value) : value));
  const script = scripts.find((s) => s.includes('fetch_pinned_weights() {'));
  const m = script && /^( *)fetch_pinned_weights\(\) \{\n[\s\S]*?\n\1\}$/m.exec(script);
  if (!m) throw new Error(`${template} has no fetch_pinned_weights`);
  return m[0].split('\n').map((l) => l.slice(m[1]!.length)).join('\n').replace(/\$\{!/g, '${');
}

/** A stand-in aws CLI: s3api get-object --bucket B --key K [--version-id V] OUT, from $FAKE_S3/B/K (@V for a version). */
function fakeAws(): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'aws'),
    `#!/usr/bin/env bash
set -eu
[ "$1 $2" = "s3api get-object" ] || { echo "unexpected aws $*" >&2; exit 2; }
shift 2; version=""
while [ $# -gt 1 ]; do case "$1" in --bucket) b="$2"; shift 2;; --key) k="$2"; shift 2;; --version-id) version="$2"; shift 2;; *) exit 2;; esac; done
echo "$b/$k@$version" >> "$FAKE_S3/calls"
src="$FAKE_S3/$b/$k"; [ -z "$version" ] || src="$src@$version"
cp "$src" "$1"
`,
    { mode: 0o755 },
  );
  return bin;
}

function putS3(key: string, data: Buffer | string, version?: string) {
  const file = path.join(dir, 's3', 'model-deploy-333333333333-us-east-1', key + (version ? `@${version}` : ''));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

function runBoot(template: string) {
  const out = path.join(dir, 'model');
  fs.mkdirSync(out);
  const script = `set -euo pipefail\n${bootFunction(template)}\nfetch_pinned_weights '${URL}' '${out}'`;
  const r = spawnSync('bash', ['-c', script], { env: { PATH: `${fakeAws()}:${process.env.PATH}`, FAKE_S3: path.join(dir, 's3'), HOME: dir }, encoding: 'utf8' });
  return { ...r, out };
}

describe('EC2 and ECS boot: exactly the promoted versions', () => {
  const v1 = Buffer.from('promoted weights');
  const v2 = Buffer.from('overwritten later');
  beforeEach(() => {
    fs.mkdirSync(path.join(dir, 's3'));
    putS3(`${PREFIX}model-deploy-weights.tsv`, manifest([{ version: 'v1', data: v1, name: 'shards/model.safetensors' }]));
    putS3(`${PREFIX}shards/model.safetensors`, v1, 'v1');
    // The current object under the prefix, and an object nobody promoted.
    putS3(`${PREFIX}shards/model.safetensors`, v2);
    putS3(`${PREFIX}extra.py`, 'import os');
  });

  test.each(['ec2.yaml', 'ecs.yaml'])('%s downloads the manifest\'s version by id, not the current object, and nothing unlisted', (template) => {
    const r = runBoot(template);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(r.out, 'shards/model.safetensors'))).toEqual(v1);
    expect(fs.existsSync(path.join(r.out, 'extra.py'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 's3', 'calls'), 'utf8')).toContain(`${PREFIX}shards/model.safetensors@v1`);
  });

  test.each(['ec2.yaml', 'ecs.yaml'])('%s fails the boot when a version does not match its SHA-256', (template) => {
    putS3(`${PREFIX}model-deploy-weights.tsv`, manifest([{ version: 'v1', data: v1, name: 'shards/model.safetensors', sha: sha('something else') }]));
    const r = runBoot(template);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/shards\/model\.safetensors does not match its SHA-256/);
  });

  test.each(['ec2.yaml', 'ecs.yaml'])('%s refuses a manifest entry outside the model directory', (template) => {
    putS3(`${PREFIX}model-deploy-weights.tsv`, manifest([{ version: 'v1', data: v1, name: '../../etc/cron.d/x' }]));
    const r = runBoot(template);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/refusing weights manifest entry/);
  });

  test('the two templates run one file: templates/stacks/fetch-pinned-weights.sh, escaped for !Sub', () => {
    const file = fs.readFileSync(path.join(ROOT, 'templates/stacks/fetch-pinned-weights.sh'), 'utf8');
    const fn = file.slice(file.indexOf('fetch_pinned_weights() {')).replace(/\n+$/, '');
    expect(bootFunction('ec2.yaml')).toBe(fn);
    expect(bootFunction('ecs.yaml')).toBe(fn);
    for (const t of ['ec2.yaml', 'ecs.yaml']) {
      const raw = fs.readFileSync(path.join(ROOT, 'templates/stacks', t), 'utf8');
      expect(raw).toContain('# model-deploy:include fetch-pinned-weights.sh');
      expect(raw).not.toContain('fetch_pinned_weights() {');
    }
  });
});

describe('serve.sh: the model directory is the promoted one at every start', () => {
  const weights = Buffer.from('promoted weights');
  function modelDir(files: Record<string, Buffer | string>, rows = [{ version: 'v1', data: weights, name: 'model.safetensors' }]) {
    const m = path.join(dir, 'model');
    fs.mkdirSync(m, { recursive: true });
    fs.writeFileSync(path.join(m, 'model-deploy-weights.tsv'), manifest(rows));
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(m, name), data);
    return m;
  }
  function serve(model: string, url = URL) {
    // A stand-in for nginx: these tests are about the engine's start.
    const nginx = path.join(dir, 'nginx');
    fs.writeFileSync(nginx, '#!/usr/bin/env bash\nexec sleep 30\n', { mode: 0o755 });
    const conf = path.join(dir, 'nginx.conf');
    fs.writeFileSync(conf, '');
    return spawnSync('bash', [SERVE], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        MODEL_DEPLOY_ENGINE_CMD: 'echo engine-started',
        MODEL_DEPLOY_NGINX: nginx,
        MODEL_DEPLOY_NGINX_CONF: conf,
        MODEL_DEPLOY_RUN_DIR: path.join(dir, 'run'),
        MODEL_DEPLOY_MODEL_DIR: model,
        MODEL_DEPLOY_MODEL_DATA_URL: url,
      },
      encoding: 'utf8',
    });
  }

  test('weights as promoted: the engine starts', () => {
    const r = serve(modelDir({ 'model.safetensors': weights }));
    expect(r.stdout).toContain('engine-started');
    expect(r.status).toBe(0);
  });

  test('a changed file: the engine never starts', () => {
    const r = serve(modelDir({ 'model.safetensors': Buffer.from('promoted weightz') }));
    expect(r.stdout).not.toContain('engine-started');
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/model\.safetensors does not match its promoted SHA-256/);
  });

  test('a file the promotion did not write: the engine never starts', () => {
    const r = serve(modelDir({ 'model.safetensors': weights, 'custom_code.py': 'import os' }));
    expect(r.stdout).not.toContain('engine-started');
    expect(r.stderr).toMatch(/files the promotion did not write .*custom_code\.py/);
  });

  test('a promoted location without its manifest: the engine never starts', () => {
    const m = modelDir({ 'model.safetensors': weights });
    fs.rmSync(path.join(m, 'model-deploy-weights.tsv'));
    const r = serve(m);
    expect(r.stdout).not.toContain('engine-started');
    expect(r.stderr).toMatch(/has no model-deploy-weights\.tsv/);
  });

  test('a location that is not a promotion (a dev build) is served as it is', () => {
    const r = serve(modelDir({ 'model.safetensors': 'anything', 'custom_code.py': 'x' }), 's3://model-deploy-111111111111-us-east-1/acme/chat/models/abc/');
    expect(r.stdout).toContain('engine-started');
  });
});
