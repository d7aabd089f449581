/**
 * `plan` shows what a deploy would create: the stack names of an environment (the first one of the
 * spec unless --environment names another), the build in that environment's first region, and an
 * index of what it wrote.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadSpec, parseSpec } from '../../../src/config/load';
import { plan } from '../../../src/plan/plan';

const EXAMPLES = path.resolve(__dirname, '../../../examples');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const outDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'md-plan-'));
  dirs.push(d);
  return d;
};
const load = (file: string) => loadSpec(path.join(EXAMPLES, file), { displayPath: `examples/${file}` });

describe('plan', () => {
  it('defaults to the first environment of the spec, so its stack names are the ones deploy-endpoint creates', async () => {
    const out = outDir();
    const result = await plan(load('model-deploy.yml'), { outDir: out });
    expect(result.environment).toBe('dev');
    expect(result.summary.join('\n')).toContain('stack acme-llm-qwen-chat-dev from');
    expect(result.summary.join('\n')).not.toMatch(/stack acme-llm-qwen-chat from/);
  });

  it('keeps the named environment, and plans without one when the spec has no environments', async () => {
    expect((await plan(load('model-deploy.yml'), { outDir: outDir(), environment: 'prod' })).summary.join('\n')).toContain('stack acme-llm-qwen-chat-prod from');
    // Without environments, the per-environment certificates and VPCs name none: they go too.
    const text = fs.readFileSync(path.join(EXAMPLES, 'model-deploy.yml'), 'utf8').replace(/^environments:\n(?: {2,}.*\n)+/m, '').replace(/^ {6}certificateArns:\n(?: {8,}.*\n)+/m, '').replace(/^ {6}environments:\n(?: {8,}.*\n)+/m, '');
    const bare = parseSpec(text, 'model-deploy.yml');
    expect(bare.environments ?? {}).toEqual({});
    const result = await plan(bare, { outDir: outDir() });
    expect(result.environment).toBeUndefined();
    expect(result.summary.join('\n')).toContain('stack acme-llm-qwen-chat from');
  });

  it("builds in the environment's first region: a China environment gets the China base image", async () => {
    const result = await plan(load('china.yml'), { outDir: outDir(), environment: 'cn-prod' });
    const build = result.summary.find((l) => l.startsWith('qwen-chat: build'));
    expect(build).toContain('727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/');
    expect(result.summary.join('\n')).toContain('qwen-chat (cn-north-1): stack acme-llm-qwen-chat-cn-prod');
  });

  it('writes an index of every file it wrote, with what each is', async () => {
    const out = outDir();
    const result = await plan(load('model-deploy.yml'), { outDir: out });
    const index = fs.readFileSync(path.join(out, 'README.md'), 'utf8');
    expect(index).toContain('environment `dev`');
    for (const f of result.files) {
      const rel = path.relative(out, f);
      if (rel === 'README.md') continue;
      expect(index).toContain(`\`${rel}\``);
    }
    expect(result.files).toContain(path.join(out, 'README.md'));
  });
});
