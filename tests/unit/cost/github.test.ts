import { memoryReporter } from '../../../src/core/log';
import { postComment, CommentBehavior } from '../../../src/cost/github';
import { gitHubApi } from '../../../src/core/github';
import { startLoopback, Loopback, RecordedRequest, Reply } from '../../support/loopback';
import { setEnv } from '../../support/env';

const MARKER = '<!-- model-deploy:estimate-cost config=model-deploy.yml -->';

interface Comment { id: number; node_id: string; body: string; html_url: string; user: { login: string } }

const BOT = { login: 'github-actions[bot]' };

/** A fake GitHub; `me` is the PAT's user (GET /user), or undefined for a GITHUB_TOKEN (403 there). */
function fakeGitHub(initial: Comment[], failFirst: number[] = [], me?: string) {
  const comments = [...initial];
  let next = 100;
  const failures = [...failFirst];
  return {
    comments,
    handler: (req: RecordedRequest) => {
      if (failures.length) return { status: failures.shift()!, body: { message: 'try again' } };
      if (req.method === 'GET' && req.path === '/user') return me ? { body: { login: me } } : { status: 403, body: { message: 'Resource not accessible by integration' } };
      const list = /^\/repos\/acme\/models\/issues\/7\/comments/.exec(req.path);
      if (req.method === 'GET' && list) return { body: comments };
      if (req.method === 'POST' && list) {
        const c = { id: next++, node_id: `IC_${next}`, body: (req.params as { body: string }).body, html_url: `https://github.com/acme/models/pull/7#issuecomment-${next}`, user: me ? { login: me } : BOT };
        comments.push(c);
        return { status: 201, body: c };
      }
      const one = /^\/repos\/acme\/models\/issues\/comments\/(\d+)$/.exec(req.path);
      if (one && req.method === 'PATCH') {
        const c = comments.find((x) => x.id === Number(one[1]))!;
        c.body = (req.params as { body: string }).body;
        return { body: c };
      }
      if (one && req.method === 'DELETE') {
        comments.splice(comments.findIndex((x) => x.id === Number(one[1])), 1);
        return { status: 204, body: '' };
      }
      if (req.method === 'POST' && req.path === '/graphql') return { body: { data: { minimizeComment: { minimizedComment: { isMinimized: true } } } } };
      return undefined;
    },
  };
}

let server: Loopback | undefined;
afterEach(async () => server?.close());

async function post(gh: ReturnType<typeof fakeGitHub>, behavior: CommentBehavior, body: string, extra: { skipIfUnchanged?: boolean; unchanged?: boolean; token?: string } = {}) {
  server = await startLoopback(gh.handler);
  return postComment({
    token: extra.token ?? 'ghs_secrettoken', apiUrl: server.url, owner: 'acme', repo: 'models', issueNumber: 7, marker: MARKER, body, behavior,
    skipIfUnchanged: extra.skipIfUnchanged ?? false, unchanged: extra.unchanged ?? false, reporter: memoryReporter(), retryBaseMs: 5,
  });
}

const other = { id: 1, node_id: 'IC_1', body: 'LGTM', html_url: 'u1', user: { login: 'alice' } };
const ours = { id: 2, node_id: 'IC_2', body: `${MARKER}\nold`, html_url: 'u2', user: BOT };
const calls = () => server!.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);

describe('postComment', () => {
  it('update: edits our comment in place, leaves others alone; a GITHUB_TOKEN (ghs_) is not sent to GET /user, which can only answer 403', async () => {
    const gh = fakeGitHub([other, { ...ours }]);
    const res = await post(gh, 'update', `${MARKER}\nnew`);
    expect(res.action).toBe('updated');
    expect(calls()).toEqual(['GET /repos/acme/models/issues/7/comments', 'PATCH /repos/acme/models/issues/comments/2']);
    expect(server!.requests[1]!.headers.authorization).toBe('Bearer ghs_secrettoken');
    expect(gh.comments.map((c) => c.body)).toEqual(['LGTM', `${MARKER}\nnew`]);
  });

  it('update: creates one when there is none, and skips an identical body', async () => {
    const gh = fakeGitHub([other]);
    expect((await post(gh, 'update', `${MARKER}\nnew`)).action).toBe('created');
    await server!.close();
    expect((await post(gh, 'update', `${MARKER}\nnew`)).action).toBe('skipped');
    expect(server!.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('delete-and-new and hide-and-new', async () => {
    const gh = fakeGitHub([{ ...ours }]);
    await post(gh, 'delete-and-new', `${MARKER}\nnew`);
    expect(server!.requests.map((r) => r.method)).toEqual(['GET', 'DELETE', 'POST']);
    await server!.close();
    const gh2 = fakeGitHub([{ ...ours }]);
    await post(gh2, 'hide-and-new', `${MARKER}\nnew`);
    const gql = server!.requests.find((r) => r.path === '/graphql')!;
    expect(gql.body).toMatch(/minimizeComment/);
    expect((gql.params as { variables: { id: string } }).variables.id).toBe('IC_2');
    expect(gh2.comments).toHaveLength(2);
  });

  it('new with skip-if-unchanged posts nothing when the estimate did not change', async () => {
    const gh = fakeGitHub([]);
    expect((await post(gh, 'new', `${MARKER}\nsame`, { skipIfUnchanged: true, unchanged: true })).action).toBe('skipped');
    expect(gh.comments).toHaveLength(0);
  });

  it('retries 5xx and 429 with back-off', async () => {
    const gh = fakeGitHub([], [502, 429]);
    const res = await post(gh, 'update', `${MARKER}\nnew`);
    expect(res.action).toBe('created');
    expect(server!.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET', 'POST']);
  });

  it('update: also deletes older copies left by `new` runs, keeping one comment', async () => {
    const older = { id: 3, node_id: 'IC_3', body: `${MARKER}\nolder`, html_url: 'u3', user: BOT };
    const gh = fakeGitHub([{ ...older }, other, { ...ours }]);
    expect((await post(gh, 'update', `${MARKER}\nnew`)).action).toBe('updated');
    expect(calls()).toContain('DELETE /repos/acme/models/issues/comments/3');
    expect(gh.comments.map((c) => c.body)).toEqual(['LGTM', `${MARKER}\nnew`]);
  });

  it('looks for its comment only among those the token posts as: someone else quoting the marker is left alone', async () => {
    const planted = { id: 5, node_id: 'IC_5', body: `${MARKER}\nplanted by a contributor`, html_url: 'u5', user: { login: 'mallory' } };
    const gh = fakeGitHub([{ ...planted }]);
    expect((await post(gh, 'update', `${MARKER}\nnew`)).action).toBe('created');
    expect(gh.comments.map((c) => c.body)).toEqual([planted.body, `${MARKER}\nnew`]);
    await server!.close();
    // A personal access token posts as its user (GET /user): the bot's comments are not its own.
    const pat = fakeGitHub([{ ...ours }, { ...planted, user: { login: 'cost-bot' }, body: `${MARKER}\nmine` }], [], 'cost-bot');
    expect((await post(pat, 'update', `${MARKER}\nnew`, { token: 'ghp_patoftheuser' })).action).toBe('updated');
    expect(calls()).toContain('GET /user');
    expect(pat.comments.map((c) => c.body)).toEqual([ours.body, `${MARKER}\nnew`]);
  });

  it('explains a 403', async () => {
    server = await startLoopback(() => ({ status: 403, body: { message: 'Resource not accessible by integration' } }));
    await expect(
      postComment({ token: 't', apiUrl: server.url, owner: 'acme', repo: 'models', issueNumber: 7, marker: MARKER, body: MARKER, behavior: 'update', skipIfUnchanged: false, unchanged: false, reporter: memoryReporter(), retryBaseMs: 5 }),
    ).rejects.toMatchObject({ title: 'PR comment failed', hint: expect.stringMatching(/pull-requests: write/) });
  });
});

describe('the comment path\'s GitHub client', () => {
  // GitHub's REST reference, "Rate limits for the REST API" / "Exceeding the rate limit": 403 or 429; a
  // secondary limit says so in its message and may carry retry-after (seconds); a primary limit has
  // x-ratelimit-remaining 0 and x-ratelimit-reset (UTC epoch seconds).
  it('waits as GitHub\'s rate-limit answers say (retry-after, then x-ratelimit-reset), and does not retry a plain 403', async () => {
    const reset = Math.floor(Date.now() / 1000) + 30;
    const answers: Reply[] = [
      { status: 403, headers: { 'retry-after': '7' }, body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' } },
      { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, body: { message: 'API rate limit exceeded for installation ID 1.' } },
      { status: 429, headers: {}, body: { message: 'too many' } },
    ];
    server = await startLoopback((req) => (req.path === '/forbidden' ? { status: 403, body: { message: 'Resource not accessible by integration' } } : answers.shift() ?? { body: { ok: true } }));
    const waits: number[] = [];
    const api = await gitHubApi('ghs_x', server.url, { retryBaseMs: 5, sleep: async (ms) => void waits.push(ms) });
    expect((await api.request<{ ok: boolean }>('GET', '/thing')).data).toEqual({ ok: true });
    expect(waits[0]).toBe(7000);
    expect(waits[1]).toBeGreaterThan(25_000);
    expect(waits[1]).toBeLessThanOrEqual(30_000);
    expect(waits[2]).toBe(20); // a 429 without headers: the back-off step (5, 10, 20 ms)
    await expect(api.request('GET', '/forbidden')).rejects.toMatchObject({ status: 403, message: 'Resource not accessible by integration' });
    expect(server.requests.filter((r) => r.path === '/forbidden')).toHaveLength(1);
  });

  it('fails at once, saying so, when a rate limit asks for a longer wait than the step waits', async () => {
    server = await startLoopback(() => ({ status: 403, headers: { 'retry-after': '3600' }, body: { message: 'You have exceeded a secondary rate limit.' } }));
    const api = await gitHubApi('ghs_x', server.url, { sleep: async () => undefined });
    await expect(api.request('GET', '/x')).rejects.toThrow(/asks to wait 3600 s/);
    expect(server.requests).toHaveLength(1);
  });

  it('reads every page by the Link header, and sends the token only as the Authorization header', async () => {
    server = await startLoopback((req) => {
      const page = Number(new URL(req.path, 'http://x').searchParams.get('page') ?? '1');
      const reply: Reply = { headers: page < 3 ? { link: `<${server!.url}/items?per_page=1&page=${page + 1}>; rel="next", <${server!.url}/items?per_page=1&page=3>; rel="last"` } : {}, body: [page] };
      return reply;
    });
    const api = await gitHubApi('ghs_x', server.url);
    expect(await api.paginate('/items?per_page=1')).toEqual([1, 2, 3]);
    expect(server.requests.every((r) => r.headers.authorization === 'Bearer ghs_x' && !r.path.includes('ghs_x'))).toBe(true);
  });

  it('goes through HTTP_PROXY (NO_PROXY honoured) as every request does, by src/core/proxy.ts\'s rule', async () => {
    // The proxy answers as the API would: an absolute-form request line names the real host.
    server = await startLoopback(() => ({ body: [] }));
    const restoreEnv = setEnv({ https_proxy: undefined, HTTPS_PROXY: undefined, http_proxy: undefined, HTTP_PROXY: server.url, no_proxy: undefined, NO_PROXY: 'direct.example.test' });
    try {
      const api = await gitHubApi('ghs_x', 'http://github.example.test/api/v3');
      expect((await api.request('GET', '/repos/acme/models/issues/7/comments')).data).toEqual([]);
      expect(server.requests.map((r) => r.path)).toEqual(['http://github.example.test/api/v3/repos/acme/models/issues/7/comments']);
      // NO_PROXY: direct, so the proxy sees nothing (the name does not resolve: the request fails instead).
      const direct = await gitHubApi('ghs_x', 'http://direct.example.test', { attempts: 1 });
      await expect(direct.request('GET', '/x')).rejects.toThrow();
      expect(server.requests).toHaveLength(1);
    } finally {
      restoreEnv();
    }
  });
});
