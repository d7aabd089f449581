/**
 * The ids the default OIDC subject names, read from GitHub's REST "Get a repository" (GET /repos/OWNER/REPO:
 * `id`, `owner.id`) on a loopback GitHub: anonymous without a token (public repositories), with GH_TOKEN when set;
 * GitHub's 404 for a missing or private repository said with what to do. And the template's Rules, checked
 * before any change set as CloudFormation checks them when it makes one.
 */
import { lookUpRepositoryIds } from '../../../src/bootstrap/repository-ids';
import { bootstrapParameters, brokenRules, loadBootstrapTemplate } from '../../../src/bootstrap/template';
import { Loopback, startLoopback } from '../../support/loopback';

let github: Loopback;
beforeAll(async () => {
  github = await startLoopback((req) => {
    if (req.method === 'GET' && req.path === '/repos/acme/models') return { body: { id: 456789, node_id: 'R_kgDO', name: 'models', full_name: 'acme/models', private: false, owner: { login: 'acme', id: 123456, type: 'Organization' } } };
    if (req.method === 'GET' && req.path === '/repos/acme/secret' && req.headers.authorization === 'Bearer ghp_token') return { body: { id: 42, name: 'secret', private: true, owner: { login: 'acme', id: 123456 } } };
    return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/repos/repos#get-a-repository', status: '404' } };
  });
});
afterAll(() => github.close());

describe('lookUpRepositoryIds', () => {
  it('reads the owner id and the repository id, anonymously when no token is set', async () => {
    const before = github.requests.length;
    expect(await lookUpRepositoryIds('acme/models', { GITHUB_API_URL: github.url })).toEqual({ ownerId: '123456', id: '456789' });
    const [req] = github.requests.slice(before);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.headers['x-github-api-version']).toBe('2022-11-28');
  });

  it('uses GH_TOKEN for a private repository', async () => {
    expect(await lookUpRepositoryIds('acme/secret', { GITHUB_API_URL: github.url, GH_TOKEN: 'ghp_token' })).toEqual({ ownerId: '123456', id: '42' });
  });

  it("GitHub's 404 (missing, or private without a token) says how to go on, never a token", async () => {
    const err = await lookUpRepositoryIds('acme/secret', { GITHUB_API_URL: github.url }).catch((e: Error & { hint?: string }) => e);
    expect(String(err)).toContain('could not read the ids of acme/secret from GitHub: GitHub answers 404 (no such repository, or a private one: no GH_TOKEN was set)');
    expect((err as { hint?: string }).hint).toContain("--parameter RepositoryOwnerId=ID --parameter RepositoryId=ID (gh api repos/acme/secret --jq '[.owner.id, .id]')");
    expect((err as { hint?: string }).hint).toContain('SubjectForm=repository-name');
  });
});

describe("the bootstrap template's Rules, before the change set", () => {
  const template = loadBootstrapTemplate();
  const given = { Repository: 'acme/models', Project: 'acme-llm', Environment: 'dev' };
  it('the default immutable subject without the ids breaks ImmutableIdsGiven, with its description', () => {
    const broken = brokenRules(template, bootstrapParameters(template, given));
    expect(broken.map((e) => e.message)).toEqual([expect.stringMatching(/^the bootstrap template's rule ImmutableIdsGiven is not met: SubjectForm immutable-ids \(the default\) needs RepositoryOwnerId and RepositoryId/)]);
  });
  it('with the ids, or with the older subject form, every rule is met', () => {
    expect(brokenRules(template, bootstrapParameters(template, { ...given, RepositoryOwnerId: '123456', RepositoryId: '456789' }))).toEqual([]);
    expect(brokenRules(template, bootstrapParameters(template, { ...given, SubjectForm: 'repository-name' }))).toEqual([]);
  });
  it("the stack's current ids count, as CloudFormation keeps them on an update", () => {
    expect(brokenRules(template, bootstrapParameters(template, given, { RepositoryOwnerId: '1', RepositoryId: '2' }))).toEqual([]);
  });
});
