/**
 * The `http-proxy` input (as configure-aws-credentials has): every action takes it, it routes the
 * step's requests as HTTPS_PROXY and HTTP_PROXY would, its password is masked before anything runs,
 * and a value that is not a proxy URL is refused naming the input, without echoing it.
 */
import { ACTIONS } from '../../../src/actions';
import { ACTION_NAMES } from '../../../src/actions/names';
import { runAction } from '../../../src/core/action';
import type { ActionDefinition } from '../../../src/core/inputs';
import { COMMON_INPUTS } from '../../../src/core/inputs';
import type { Reporter } from '../../../src/core/log';

function recorder() {
  const lines: string[] = [];
  const secrets: string[] = [];
  const reporter: Reporter = {
    info: (m) => lines.push(m),
    debug: (m) => lines.push(m),
    warning: (m) => lines.push(m),
    error: (m) => lines.push(m),
    notice: (m) => lines.push(m),
    group: (_n, fn) => fn(),
    setSecret: (s) => secrets.push(s),
    setOutput: () => undefined,
    summary: async () => undefined,
  };
  return { reporter, lines, secrets };
}

const definition = { name: 'proxy-test', title: 't', description: 'd', inputs: { 'http-proxy': COMMON_INPUTS['http-proxy'] }, outputs: {} } as const satisfies ActionDefinition;

describe('input http-proxy', () => {
  it('is an input of every action', () => {
    expect(ACTIONS.map((a) => a.name).sort()).toEqual([...ACTION_NAMES].sort());
    for (const action of ACTIONS) expect([action.name, Object.keys(action.inputs)]).toEqual([action.name, expect.arrayContaining(['http-proxy'])]);
  });

  it('sets the proxy variables for the step (lower case too: they win over upper case) and masks the password first', async () => {
    const env: NodeJS.ProcessEnv = { https_proxy: 'http://old.corp:1' };
    const { reporter, secrets } = recorder();
    const seen: Record<string, string | undefined>[] = [];
    const ok = await runAction(
      { definition, run: async () => void seen.push({ https: env.https_proxy, HTTPS: env.HTTPS_PROXY, http: env.http_proxy, HTTP: env.HTTP_PROXY }) },
      { reporter, env, source: (name) => (name === 'http-proxy' ? 'http://ci:s3cret@proxy.corp:3128' : ''), setExitCode: false },
    );
    expect(ok).toBe(true);
    const url = 'http://ci:s3cret@proxy.corp:3128';
    expect(seen).toEqual([{ https: url, HTTPS: url, http: url, HTTP: url }]);
    expect(secrets).toContain('s3cret');
  });

  it('refuses what is not an http(s) proxy URL, naming the input and not the value', async () => {
    const { reporter, lines } = recorder();
    const ran: string[] = [];
    const ok = await runAction(
      { definition, run: async () => void ran.push('ran') },
      { reporter, env: {}, source: (name) => (name === 'http-proxy' ? 'socks5://u:topsecret@proxy:1080' : ''), setExitCode: false },
    );
    expect(ok).toBe(false);
    expect(ran).toEqual([]);
    expect(lines.join('\n')).toMatch(/input `http-proxy`/);
    expect(lines.join('\n')).toMatch(/http:\/\/host:port/);
    expect(lines.join('\n')).not.toContain('topsecret');
  });
});
