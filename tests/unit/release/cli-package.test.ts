/**
 * The npm package @model-deploy-actions/cli (cli-package/, packed by scripts/pack-cli.js from the committed
 * dist/cli): packed, installed with no network and an empty npm cache (so a dependency could come from
 * nowhere), then run from node_modules/.bin the way `npx @model-deploy-actions/cli@1` runs it.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import { isBuiltin } from 'module';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ROOT_VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
const NAME = '@model-deploy-actions/cli';
/** The bound the tarball must stay under: a download of seconds (installing from git took 126 MB). */
const MAX_TARBALL_BYTES = 4 * 1024 * 1024;

interface Packed {
  tarball: string;
  name: string;
  version: string;
  size: number;
  unpackedSize: number;
  files: string[];
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-package-'));
const prefix = path.join(tmp, 'prefix');
const installed = path.join(prefix, 'node_modules', '@model-deploy-actions', 'cli');
const bin = path.join(prefix, 'node_modules', '.bin', 'model-deploy');
// No registry (port 9 is discard: any fetch fails at once), an empty cache, no user or global npmrc.
const offlineEnv: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_registry: 'http://127.0.0.1:9',
  npm_config_cache: path.join(tmp, 'npm-cache'),
  npm_config_userconfig: path.join(tmp, 'npmrc'),
  npm_config_globalconfig: path.join(tmp, 'npmrc-global'),
  npm_config_update_notifier: 'false',
};
let packed: Packed;
let installMs = 0;

function cli(args: string[], cwd = tmp, env: NodeJS.ProcessEnv = offlineEnv) {
  return spawnSync(bin, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(() => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack-cli.js'), '--out', path.join(tmp, 'pack'), '--repository', 'acme/model-deploy-actions'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: offlineEnv,
  });
  packed = JSON.parse(out);
  fs.mkdirSync(prefix);
  const started = Date.now();
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, packed.tarball], { cwd: tmp, env: offlineEnv, encoding: 'utf8', stdio: 'pipe' });
  installMs = Date.now() - started;
  // Figures for the release notes and the README's "installs in seconds" (printed, never asserted on time).
  process.stdout.write(`${NAME}: tarball ${(packed.size / 1024).toFixed(0)} KiB, unpacked ${(packed.unpackedSize / 1024 / 1024).toFixed(1)} MiB, ${packed.files.length} files, offline install ${installMs} ms\n`);
}, 120_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe(`${NAME}: the package`, () => {
  it('is named for the scope the project owns, at the version the CLI prints', () => {
    expect(packed.name).toBe(NAME);
    expect(packed.version).toBe(ROOT_VERSION);
    expect(path.basename(packed.tarball)).toBe(`model-deploy-actions-cli-${ROOT_VERSION}.tgz`);
  });

  it(`is small: under ${MAX_TARBALL_BYTES / 1024 / 1024} MiB`, () => {
    expect(packed.size).toBeGreaterThan(100 * 1024); // the bundle is really in it
    expect(packed.size).toBeLessThan(MAX_TARBALL_BYTES);
  });

  it('holds the bundle, its launcher, the templates it reads, the examples and the licences, nothing else', () => {
    const allowed = /^(package\.json|README\.md|LICENSE|bin\/model-deploy\.js|dist\/cli\/[^/]+|templates\/(bootstrap|build|serving|stacks)\/[^/]+|examples\/[^/]+\.yml)$/;
    expect(packed.files.filter((f) => !allowed.test(f))).toEqual([]);
    for (const f of ['bin/model-deploy.js', 'dist/cli/index.js', 'dist/cli/bundle.js', 'dist/cli/licenses.txt', 'LICENSE', 'templates/stacks/sagemaker-realtime.yaml', 'templates/bootstrap/model-deploy-bootstrap.yaml', 'templates/build/buildspec.yml', 'templates/serving/nginx.conf', 'examples/model-deploy.yml']) {
      expect(packed.files).toContain(f);
    }
    // Every file of the committed dist/cli, so the bundle finds all its chunks.
    expect(packed.files.filter((f) => f.startsWith('dist/cli/')).sort()).toEqual(fs.readdirSync(path.join(ROOT, 'dist', 'cli')).map((f) => `dist/cli/${f}`).sort());
  });

  it('declares a bin, the licence, node >= 20 and no dependencies of any kind', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: NAME,
      version: ROOT_VERSION,
      license: 'Apache-2.0',
      bin: { 'model-deploy': 'bin/model-deploy.js' },
      engines: { node: '>=20' },
      publishConfig: { access: 'public', provenance: true },
      repository: { type: 'git', url: 'git+https://github.com/acme/model-deploy-actions.git' },
    });
    for (const key of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies', 'scripts']) {
      expect({ key, value: pkg[key] }).toEqual({ key, value: undefined });
    }
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'));
    expect(fs.readFileSync(path.join(installed, 'README.md'), 'utf8')).toContain('https://github.com/acme/model-deploy-actions');
  });

  it('installs with no network and an empty cache, bringing no other package', () => {
    expect(fs.readdirSync(path.join(prefix, 'node_modules')).sort()).toEqual(['.bin', '.package-lock.json', '@model-deploy-actions']);
    expect(fs.readdirSync(path.join(prefix, 'node_modules', '@model-deploy-actions'))).toEqual(['cli']);
    const lock = JSON.parse(fs.readFileSync(path.join(prefix, 'package-lock.json'), 'utf8'));
    expect(Object.keys(lock.packages).sort()).toEqual(['', 'node_modules/@model-deploy-actions/cli']);
    expect(installMs).toBeGreaterThan(0);
  });

  it('the offline install really has no registry (a package with a dependency fails to install)', () => {
    const dir = path.join(tmp, 'with-dep');
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'package.json'), JSON.stringify({ name: 'needs-a-dep', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } }));
    // A tarball, like the CLI's (a folder would only be linked, its dependencies left out).
    const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: path.join(dir, 'src'), env: offlineEnv, encoding: 'utf8' }).trim();
    const result = spawnSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--prefix', path.join(dir, 'prefix'), path.join(dir, tgz)], { env: offlineEnv, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/ENOTCACHED|left-pad/);
  });
});

describe(`${NAME}: the installed command`, () => {
  it('model-deploy --help lists the commands', () => {
    const r = cli(['--help']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`model-deploy ${ROOT_VERSION}`);
    expect(r.stdout).toContain('model-deploy validate [--config FILE]');
    expect(r.stdout).toContain('model-deploy plan');
  });

  it('model-deploy validate --config examples/model-deploy.yml accepts the bundled example', () => {
    const r = cli(['validate', '--config', path.join(ROOT, 'examples', 'model-deploy.yml')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/model-deploy\.yml: valid, 3 deployment\(s\): qwen-chat, summarizer-batch, code-assistant/);
  });

  it('model-deploy validate fails on a broken spec, with the file and line', () => {
    const bad = path.join(tmp, 'bad.yml');
    fs.writeFileSync(bad, fs.readFileSync(path.join(ROOT, 'examples', 'model-deploy.yml'), 'utf8').replace('ml.g5.2xlarge', 'ml.g5.2xlarg'));
    const r = cli(['validate', '--config', bad]);
    expect(r.status).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toMatch(/bad\.yml:\d+:\d+/);
    expect(`${r.stdout}${r.stderr}`).toContain('ml.g5.2xlarge');
  });

  it('model-deploy plan renders templates from the package (offline) in an empty folder', () => {
    const cwd = fs.mkdtempSync(path.join(tmp, 'plan-'));
    const r = cli(['plan', '--config', path.join(ROOT, 'examples', 'model-deploy.yml'), '--out', 'out'], cwd);
    expect(r.status).toBe(0);
    const written = fs.readdirSync(path.join(cwd, 'out'), { recursive: true }).map(String);
    expect(written).toEqual(expect.arrayContaining([expect.stringMatching(/Dockerfile$/), expect.stringMatching(/buildspec\.yml$/), expect.stringMatching(/estimate\.json$/)]));
  });

  it('loads nothing but node built-ins and its own files (dist/cli is self-contained)', () => {
    const record = path.join(tmp, 'resolved.jsonl');
    const hook = path.join(tmp, 'record-resolution.js');
    fs.writeFileSync(
      hook,
      `const Module = require('module'); const fs = require('fs');
       const original = Module._resolveFilename;
       Module._resolveFilename = function (request, parent, ...rest) {
         const resolved = original.call(this, request, parent, ...rest);
         fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify({ request, resolved }) + '\\n');
         return resolved;
       };`,
    );
    const env = { ...offlineEnv, NODE_OPTIONS: `--require ${hook}`, NODE_PATH: '' };
    const cwd = fs.mkdtempSync(path.join(tmp, 'resolve-'));
    for (const args of [['--help'], ['validate', '--config', path.join(ROOT, 'examples', 'model-deploy.yml')], ['plan', '--config', path.join(ROOT, 'examples', 'model-deploy.yml'), '--out', 'out']]) {
      expect({ args, status: cli(args, cwd, env).status }).toEqual({ args, status: 0 });
    }
    const loads = fs.readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { request: string; resolved: string });
    const own = fs.realpathSync(installed) + path.sep;
    const outside = loads.filter(({ resolved }) => !isBuiltin(resolved) && !fs.realpathSync(resolved).startsWith(own) && resolved !== hook);
    expect(outside).toEqual([]);
    expect(loads.some(({ resolved }) => resolved.endsWith(`${path.sep}bundle.js`))).toBe(true);
  });

  it('names no package outside itself but node built-ins, except the lazy browser-only bowser (never reached on node)', () => {
    const externals = new Set<string>();
    for (const f of fs.readdirSync(path.join(installed, 'dist', 'cli')).filter((x) => x.endsWith('.js'))) {
      // webpack's externals: `e.exports=require("name")`.
      for (const m of fs.readFileSync(path.join(installed, 'dist', 'cli', f), 'utf8').matchAll(/exports\s*=\s*require\("([^"]+)"\)/g)) {
        // A file of its own beside the bundle (yaml.js, the full spec validators) must be in the package.
        if (m[1]!.startsWith('./')) expect(fs.existsSync(path.join(installed, 'dist', 'cli', m[1]!))).toBe(true);
        else if (!isBuiltin(m[1]!)) externals.add(m[1]!);
      }
    }
    // bowser: @aws-sdk's createUserAgentStringParsingProvider requires it lazily to parse a browser's
    // navigator.userAgent; node's user agent provider never calls it (the run above loads no bowser).
    expect([...externals]).toEqual(['bowser']);
  });
});
