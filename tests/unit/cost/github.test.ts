import { memoryReporter } from '../../../src/core/log';
import { postComment, CommentBehavior } from '../../../src/cost/github';
import { startLoopback, Loopback, RecordedRequest } from '../../helpers/loopback';

const MARKER = '<!-- model-deploy:estimate-cost config=model-deploy.yml -->';

interface Comment { id: number; node_id: string; body: string; html_url: string }

function fakeGitHub(initial: Comment[], failFirst: number[] = []) {
  const comments = [...initial];
  let next = 100;
  const failures = [...failFirst];
  return {
    comments,
    handler: (req: RecordedRequest) => {
      if (failures.length) return { status: failures.shift()!, body: { message: 'try again' } };
      const list = /^\/repos\/acme\/models\/issues\/7\/comments/.exec(req.path);
      if (req.method === 'GET' && list) return { body: comments };
      if (req.method === 'POST' && list) {
        const c = { id: next++, node_id: `IC_${next}`, body: (req.params as { body: string }).body, html_url: `https://github.com/acme/models/pull/7#issuecomment-${next}` };
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

async function post(gh: ReturnType<typeof fakeGitHub>, behavior: CommentBehavior, body: string, extra: { skipIfUnchanged?: boolean; unchanged?: boolean } = {}) {
  server = await startLoopback(gh.handler);
  return postComment({
    token: 'ghs_secrettoken', apiUrl: server.url, owner: 'acme', repo: 'models', issueNumber: 7, marker: MARKER, body, behavior,
    skipIfUnchanged: extra.skipIfUnchanged ?? false, unchanged: extra.unchanged ?? false, reporter: memoryReporter(), retryBaseMs: 5,
  });
}

const other = { id: 1, node_id: 'IC_1', body: 'LGTM', html_url: 'u1' };
const ours = { id: 2, node_id: 'IC_2', body: `${MARKER}\nold`, html_url: 'u2' };

describe('postComment', () => {
  it('update: edits our comment in place, leaves others alone', async () => {
    const gh = fakeGitHub([other, { ...ours }]);
    const res = await post(gh, 'update', `${MARKER}\nnew`);
    expect(res.action).toBe('updated');
    expect(server!.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(['GET /repos/acme/models/issues/7/comments', 'PATCH /repos/acme/models/issues/comments/2']);
    expect(server!.requests[1].headers.authorization).toBe('token ghs_secrettoken');
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

  it('explains a 403', async () => {
    server = await startLoopback(() => ({ status: 403, body: { message: 'Resource not accessible by integration' } }));
    await expect(
      postComment({ token: 't', apiUrl: server.url, owner: 'acme', repo: 'models', issueNumber: 7, marker: MARKER, body: MARKER, behavior: 'update', skipIfUnchanged: false, unchanged: false, reporter: memoryReporter(), retryBaseMs: 5 }),
    ).rejects.toMatchObject({ title: 'PR comment failed', hint: expect.stringMatching(/pull-requests: write/) });
  });
});
