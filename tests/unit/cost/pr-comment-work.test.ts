/**
 * Issue 26 item 3: the work one PR-comment run does, counted (the time is bench/cost.bench.ts's). Each
 * test failed on the code before: the report converted to JSON twice, a git process per check before
 * the one that reads, a nearest-type search per unpriced row.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as gitModule from '../../../src/core/git';
import * as githubModule from '../../../src/core/github';
import * as fitModule from '../../../src/fit/fit';
import { EnvInputs } from '../../../src/core/env';
import { memoryReporter } from '../../../src/core/log';
import { readBaseSpec } from '../../../src/cost/base';
import { readBaseResults } from '../../../src/cost/benchmarks';
import { PriceBook, estimateDeployments } from '../../../src/cost/estimate';
import { estimateCost } from '../../../src/cost/flow';
import * as reportModule from '../../../src/cost/report';
import * as yamlPositions from '../../../src/config/yaml-positions';
import * as loadModule from '../../../src/config/load';
import * as baseModule from '../../../src/cost/base';
import { Catalog } from '../../../src/prices/catalog';
import { manyDeployments, sagemaker, specOf } from './fixtures';
import { startLoopback } from '../../support/loopback';

afterEach(() => jest.restoreAllMocks());

function repoWithBase(): { dir: string; baseSha: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-work-'));
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd: dir, stdio: 'pipe' }).toString().trim();
  git('init', '-q');
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g4dn.xlarge')}`);
  git('add', '.');
  git('commit', '-qm', 'base');
  const baseSha = git('rev-parse', 'HEAD');
  fs.writeFileSync(path.join(dir, 'model-deploy.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g5.xlarge')}`);
  git('commit', '-qam', 'head');
  return { dir, baseSha };
}

describe('one PR-comment run', () => {
  it('reads a base commit the clone has with one git process', async () => {
    const { dir, baseSha } = repoWithBase();
    const spy = jest.spyOn(gitModule, 'git');
    const base = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: baseSha });
    expect(base.spec?.deployments.chat?.instanceType).toBe('ml.g4dn.xlarge');
    expect(spy.mock.calls.map((c) => c[1][0])).toEqual(['show']);
  });

  it('still tells a file the base commit lacks from a commit the clone lacks', async () => {
    const { dir, baseSha } = repoWithBase();
    const absent = await readBaseSpec({ workspace: dir, config: 'other.yml', baseRef: baseSha });
    expect(absent.unknown).toBeUndefined();
    expect(absent.label).toMatch(/no other\.yml there/);
    // 40 hex digits git does not have and cannot fetch (no origin): unknown, not "no spec".
    const unknown = await readBaseSpec({ workspace: dir, config: 'model-deploy.yml', baseRef: 'f'.repeat(40) });
    expect(unknown.unknown).toMatch(/could not be read/);
  });

  it('converts the report to JSON once for the result file and the outputs', async () => {
    const { dir, baseSha } = repoWithBase();
    const spy = jest.spyOn(reportModule, 'reportJsonStreamed');
    const whole = jest.spyOn(reportModule, 'reportJson');
    const res = await estimateCost(
      { workspace: dir, config: 'model-deploy.yml' },
      { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', baseRef: baseSha },
      { reporter: memoryReporter(), env: new EnvInputs({}) },
    );
    expect(res.totals[0]?.currency).toBe('USD');
    expect(res.summary).toMatch(/### Cost estimate/);
    expect(spy).toHaveBeenCalledTimes(1);
    // The result file's `projects` are made as it is written, never as one array.
    expect(whole).not.toHaveBeenCalled();
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'cost.json'), 'utf8'));
    expect(file.projects.map((p: { name: string }) => p.name)).toEqual(res.report.changes.map((c) => `${res.report.project}/${c.name}`));
    expect(file.projects[0].breakdown.resources.length).toBeGreaterThan(0);
    // The report is in the file once: the infracost-like form, which the comment job re-derives from (comment-trust.test.ts).
    expect(Object.keys(file).filter((k) => k !== 'projects' && JSON.stringify(file[k]).includes('"resources"'))).toEqual([]);
    expect(file.report).toBeUndefined();
  });

  it('looks up positions in the head spec only: the base\'s findings are never shown', async () => {
    const { dir, baseSha } = repoWithBase();
    const real = yamlPositions.parseYaml;
    const located: string[] = [];
    // Which spec each position is asked of: the head runs chat on ml.g5.xlarge, the base on ml.g4dn.xlarge.
    jest.spyOn(yamlPositions, 'parseYaml').mockImplementation((text, file) => {
      const parsed = real(text, file);
      const side = text.includes('ml.g5.xlarge') ? 'head' : 'base';
      return { ...parsed, locate: (p, key) => (located.push(side), parsed.locate(p, key)) };
    });
    // Offline (the tests' default): a note ("KV cache ... not checked") on each side, at its spec line on the head.
    const res = await estimateCost(
      { workspace: dir, config: 'model-deploy.yml' },
      { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', baseRef: baseSha },
      { reporter: memoryReporter(), env: new EnvInputs({}) },
    );
    expect(res.report.priceNotes.join('\n')).toMatch(/model-deploy\.yml:\d+: deployments\.chat: /);
    expect(located).toContain('head');
    expect(located).not.toContain('base');
  });

  it('checks the memory of the head only: the base is pinned to its commit, never fit-checked (its findings are never shown)', async () => {
    const { dir, baseSha } = repoWithBase();
    const spy = jest.spyOn(fitModule, 'checkFit');
    await estimateCost(
      { workspace: dir, config: 'model-deploy.yml' },
      { hoursPerMonth: 730, livePrices: false, mode: 'estimate', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', baseRef: baseSha },
      { reporter: memoryReporter(), env: new EnvInputs({}) },
    );
    // A deployment's own type is checked with its workload (the fifth argument); a search for cheaper types without.
    expect(spy.mock.calls.filter((c) => c[4] !== undefined).map((c) => c[0])).toEqual(['ml.g5.xlarge']);
  });

  it('asks GitHub for the earlier comments first, while the specs are read, with one client for the base and the comment', async () => {
    const { dir, baseSha } = repoWithBase();
    const baseText = execFileSync('git', ['show', `${baseSha}:model-deploy.yml`], { cwd: dir }).toString();
    // GitHub's answers: the contents API's raw file, a 404 for the missing results folder, the comments, the new comment.
    const server = await startLoopback((req) => {
      if (req.path.startsWith('/repos/acme/models/contents/model-deploy.yml')) return { headers: { 'content-type': 'application/vnd.github.raw+json; charset=utf-8' }, body: baseText };
      if (req.path.startsWith('/repos/acme/models/issues/7/comments')) {
        return req.method === 'GET' ? { body: [] } : { status: 201, body: { id: 1, node_id: 'IC_1', body: '', html_url: 'https://github.com/acme/models/pull/7#issuecomment-1', user: { login: 'github-actions[bot]' } } };
      }
      return { status: 404, body: { message: 'Not Found' } };
    });
    const clients = jest.spyOn(githubModule, 'gitHubApi');
    try {
      const res = await estimateCost(
        { workspace: dir, config: 'model-deploy.yml' },
        { hoursPerMonth: 730, livePrices: false, mode: 'estimate-and-comment', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', baseRef: baseSha, prNumber: 7, token: 'ghs_test', retryBaseMs: 1 },
        { reporter: memoryReporter(), env: new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_API_URL: server.url }) },
      );
      expect(res.commentUrl).toBe('https://github.com/acme/models/pull/7#issuecomment-1');
      expect(res.report.baseNote).toBeUndefined();
      const calls = server.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);
      expect(calls[0]).toBe('GET /repos/acme/models/issues/7/comments');
      expect(calls).toContain('GET /repos/acme/models/contents/model-deploy.yml');
      expect(calls[calls.length - 1]).toBe('POST /repos/acme/models/issues/7/comments');
      expect(clients).toHaveBeenCalledTimes(1);
    } finally {
      await server.close();
    }
  });

  it("asks for the base before reading the head spec, and hands the figures to the action before the comment's answer", async () => {
    const { dir, baseSha } = repoWithBase();
    const baseText = execFileSync('git', ['show', `${baseSha}:model-deploy.yml`], { cwd: dir }).toString();
    const order: string[] = [];
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const server = await startLoopback(async (req) => {
      if (req.path.startsWith('/repos/acme/models/contents/model-deploy.yml')) return { headers: { 'content-type': 'application/vnd.github.raw+json; charset=utf-8' }, body: baseText };
      if (req.path.startsWith('/repos/acme/models/issues/7/comments')) {
        if (req.method === 'GET') return { body: [] };
        // GitHub answers the comment once the action has its figures (it must not wait for this answer to write
        // them); a run that waits anyway gets its answer after 2 s, later than its figures, and fails below.
        order.push('POST comment');
        await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, 2000))]);
        order.push('POST answered');
        return { status: 201, body: { id: 1, node_id: 'IC_1', body: '', html_url: 'https://github.com/acme/models/pull/7#issuecomment-1', user: { login: 'github-actions[bot]' } } };
      }
      return { status: 404, body: { message: 'Not Found' } };
    });
    const realLoad = loadModule.loadSpec;
    jest.spyOn(loadModule, 'loadSpec').mockImplementation((...a) => (order.push('read head spec'), realLoad(...a)));
    const realBase = baseModule.readBaseSpec;
    jest.spyOn(baseModule, 'readBaseSpec').mockImplementation((...a) => (order.push('ask for base spec'), realBase(...a)));
    try {
      const res = await estimateCost(
        { workspace: dir, config: 'model-deploy.yml' },
        {
          hoursPerMonth: 730, livePrices: false, mode: 'estimate-and-comment', behavior: 'update', skipIfUnchanged: false, resultFile: 'cost.json', baseRef: baseSha, prNumber: 7, token: 'ghs_test', retryBaseMs: 1,
          figuresReady: (figures) => {
            order.push(`figures ready (${figures.totals[0]?.currency})`);
            expect(fs.existsSync(path.join(dir, 'cost.json'))).toBe(true);
            answer();
          },
        },
        { reporter: memoryReporter(), env: new EnvInputs({ GITHUB_REPOSITORY: 'acme/models', GITHUB_API_URL: server.url }) },
      );
      expect(res.commentUrl).toBe('https://github.com/acme/models/pull/7#issuecomment-1');
      expect(order.filter((o) => o !== 'POST comment').slice(0, 2)).toEqual(['ask for base spec', 'read head spec']);
      expect(order).toContain('figures ready (USD)');
      expect(order.indexOf('figures ready (USD)')).toBeLessThan(order.indexOf('POST answered'));
    } finally {
      answer();
      await server.close();
    }
  });

  it('makes no temporary folder for a base with no benchmark results to read', async () => {
    // The module object itself (`import * as` gives a copy whose properties cannot be replaced).
    const made = jest.spyOn(jest.requireActual<typeof fs>('fs'), 'mkdtempSync');
    const read = jest.fn(async () => undefined);
    // GitHub's answer for a folder the base lacks (a 404: an empty list), and for one with no result file in it.
    for (const listing of [[], [{ name: 'README.md', size: 10, id: 'a'.repeat(40) }]]) {
      expect(await readBaseResults('/ws', 'b'.repeat(40), '.model-deploy/benchmarks/', { list: async () => listing, read })).toEqual({ records: [], problems: [] });
    }
    expect(made).not.toHaveBeenCalled();
    expect(read).not.toHaveBeenCalled();
  });

  it('looks for the nearest priced types once per unpriced type and region, not per row', () => {
    const catalog = new Catalog();
    const spy = jest.spyOn(catalog, 'nearestKeys');
    const spec = specOf(manyDeployments(12, ['us-east-1'], ['ml.p3.8xlarge']));
    const estimate = estimateDeployments(Object.values(spec.deployments), { prices: new PriceBook(catalog), spec });
    expect(estimate.deployments.every((d) => d.unpriced.length > 0)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
  });
});

describe('what the estimate-cost action loads', () => {
  it('does not load worker_threads for a usual spec: only a large one starts a worker (~5 ms of Node 24\'s start)', async () => {
    let loaded = 0;
    let modules: { action: typeof import('../../../src/actions/estimate-cost'); runner: typeof import('../../../src/core/action'); inputs: typeof import('../../../src/core/inputs') } | undefined;
    jest.isolateModules(() => {
      jest.doMock('worker_threads', () => {
        loaded++;
        return jest.requireActual('worker_threads');
      });
      modules = {
        action: require('../../../src/actions/estimate-cost'),
        runner: require('../../../src/core/action'),
        inputs: require('../../../src/core/inputs'),
      };
    });
    jest.dontMock('worker_threads');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cost-load-'));
    fs.writeFileSync(path.join(dir, 'model-deploy.yml'), `version: 1\nproject: test\ndeployments:\n${sagemaker('chat', 'ml.g5.xlarge')}`);
    const reporter = memoryReporter();
    const { action, runner, inputs } = modules!;
    await runner.runAction(action, { source: inputs.mapInputSource({ mode: 'estimate', 'result-file': 'cost.json' }), reporter, env: { GITHUB_WORKSPACE: dir }, setExitCode: false });
    expect(reporter.captured.outputs['total-monthly-cost']).toMatch(/^\d/);
    expect(loaded).toBe(0);
  });
});
