import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { main } from '../../../src/cli/main';
import { setEnv } from '../../support/env';

const EXAMPLE = path.resolve(__dirname, '../../../examples/model-deploy.yml');

/** Runs the CLI in a fresh folder; returns its exit code and everything it printed. */
async function cli(args: string[], files: Record<string, string> = {}): Promise<{ code: number; out: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-cli-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const cwd = process.cwd();
  process.chdir(dir);
  const restoreEnv = setEnv({ GITHUB_WORKSPACE: dir });
  try {
    const code = await main(args, stream);
    return { code, out, dir };
  } finally {
    process.chdir(cwd);
    restoreEnv();
  }
}

describe('model-deploy --help', () => {
  it.each([['plan'], ['validate'], ['build-model'], ['deploy-endpoint'], ['rotate-key'], ['promote-model'], ['estimate-cost']])(
    '%s --help prints that command\'s usage and exits 0',
    async (command) => {
      const r = await cli([command, '--help']);
      expect(r.out).not.toMatch(/unknown flag|did you mean/i);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`model-deploy ${command}`);
      expect(r.out).toContain('--config');
    },
  );

  it('lists an action\'s inputs as flags with their descriptions and defaults', async () => {
    const r = await cli(['build-model', '-h']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/--poll-seconds N?\s.*Seconds between build status checks.*\(default 10\)/);
  });

  it('plan --help writes no plan', async () => {
    const r = await cli(['plan', '--help']);
    expect(fs.existsSync(path.join(r.dir, 'plan-out'))).toBe(false);
  });
});

describe('model-deploy plan without --config', () => {
  it('plans ./model-deploy.yml when it exists, and says so', async () => {
    const own = fs.readFileSync(EXAMPLE, 'utf8').replace(/acme-llm/g, 'mine-llm');
    const r = await cli(['plan'], { 'model-deploy.yml': own });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Plan for model-deploy\.yml \(\.\/model-deploy\.yml in this folder\)/);
    const written = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? written(path.join(dir, e.name)) : [fs.readFileSync(path.join(dir, e.name), 'utf8')]));
    const texts = written(path.join(r.dir, 'plan-out'));
    expect(texts.some((t) => t.includes('mine-llm'))).toBe(true);
    expect(texts.some((t) => t.includes('acme-llm'))).toBe(false);
  });

  it('falls back to the bundled example when there is none, and says so', async () => {
    const r = await cli(['plan']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/the bundled example: no \.\/model-deploy\.yml in this folder/);
  });
});

describe('CLI errors name the CLI flag', () => {
  it('validate on a missing file says --config, not the action input', async () => {
    const r = await cli(['validate']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--config');
    expect(r.out).not.toMatch(/`config` input/);
  });

  it('an action run from the terminal without a spec says --config', async () => {
    const r = await cli(['build-model', '--environment', 'dev']);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('--config');
    expect(r.out).not.toMatch(/`config` input/);
  });
});

describe('model-deploy benchmark and invoke', () => {
  it.each([
    ['benchmark', '--api-key-env'],
    ['invoke', '--body'],
  ])('%s --help prints its usage and exits 0', async (command, flag) => {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`model-deploy ${command}`);
    expect(r.out).toContain(flag);
  });

  it('lists both in the general usage', async () => {
    const r = await cli(['--help']);
    expect(r.out).toMatch(/model-deploy benchmark --url URL/);
    expect(r.out).toMatch(/model-deploy invoke .*--body JSON\|@FILE/);
  });

  it('benchmark: a bad flag is a usage error (exit 2) naming it', async () => {
    const r = await cli(['benchmark', '--url', 'http://127.0.0.1:9', '--concurrency', 'many']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--concurrency is "many", which is not a number');
  });
});

describe('an unknown command', () => {
  it('lists the commands, and suggests the closest only when it is a likely typo', async () => {
    const typo = await cli(['bootstrp']);
    expect(typo.code).toBe(2);
    expect(typo.out).toContain('unknown command "bootstrp"');
    expect(typo.out).toContain('Did you mean "bootstrap"?');
    expect(typo.out).toContain('Commands: init, validate, plan, bootstrap, status, destroy, benchmark, invoke, build-model, deploy-endpoint, rotate-key, promote-model, estimate-cost, cost-report.');
    const unrelated = await cli(['jumpstart']);
    expect(unrelated.code).toBe(2);
    expect(unrelated.out).not.toContain('Did you mean');
    expect(unrelated.out).toContain('Commands: init, validate,');
  });
});
