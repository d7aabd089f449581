/**
 * The gateway's configuration as build-model renders it into the image: templates/serving/nginx.conf filled for
 * the engine's routes, checked before it is written, accepted by nginx itself (`nginx -t`), and nginx built into
 * every engine image from a pinned source.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DeployError } from '../../../src/core/errors';
import { GATEWAY_DEFAULTS, renderBuild, renderGatewayConfig } from '../../../src/image/render';
import { deployment, ROOT, withChanges } from '../image/fixtures';
import { nginxBinary } from '../../support/gateway';

const conf = (engine: string) => {
  const text = engine === 'vllm' ? undefined : withChanges([['name: vllm', `name: ${engine}`], ['      version: "0.8.5"\n', ''], ['      args: ["--max-model-len", "8192"]\n', '']]);
  const r = renderBuild(deployment(text), { region: 'us-east-1', root: ROOT });
  return { build: r, conf: r.files.find((f) => f.path === 'model-deploy/serving/nginx.conf')!.content.toString() };
};

describe('the gateway configuration in the image', () => {
  test.each([
    ['vllm', '/health', '/v1/chat/completions'],
    ['tgi', '/health', '/v1/chat/completions'],
    ['lmi', '/ping', '/invocations'],
  ])('%s: health and invocations go to the engine routes %s and %s', (engine, health, invocations) => {
    const { conf: text } = conf(engine);
    expect(text).not.toMatch(/\{\{/);
    expect(text).toContain(`set $md_health ${health};`);
    expect(text).toContain(`proxy_pass http://md_engine${invocations};`);
    expect(text).toContain('listen 0.0.0.0:8080 backlog=4096;');
    expect(text).toContain('server 127.0.0.1:8081 max_fails=0;');
    // Streams unbuffered; the key never reaches the engine; the access log has neither query string nor header.
    expect(text).toContain('proxy_buffering off;');
    expect(text).toContain('proxy_set_header Authorization "";');
    expect(text).toContain('proxy_set_header X-Api-Key "";');
    expect(/log_format md_access '([^']*)'/.exec(text)?.[1]).not.toMatch(/\$request |\$request_uri|\$args|\$http_/);
  });

  test('every engine image builds nginx from the pinned source in a stage of its own base and copies it in', () => {
    for (const engine of ['vllm', 'tgi', 'lmi']) {
      const { build } = conf(engine);
      const base = /^FROM (\S+)$/m.exec(build.dockerfile)![1];
      expect(build.dockerfile).toContain(`FROM ${base} AS gateway`);
      expect(build.dockerfile).toContain('RUN bash /tmp/build-nginx.sh /opt/model-deploy/nginx');
      expect(build.dockerfile).toContain('COPY --from=gateway /opt/model-deploy/nginx /opt/model-deploy/nginx');
    }
    const script = fs.readFileSync(path.join(ROOT, 'templates', 'serving', 'build-nginx.sh'), 'utf8');
    expect(script).toMatch(/^NGINX_VERSION=\d+\.\d+\.\d+$/m);
    expect(script).toMatch(/^NGINX_SHA256=[0-9a-f]{64}$/m);
    expect(script).toContain('sha256sum -c');
  });

  test('nginx accepts the rendered configuration (nginx -t)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-nginx-t-'));
    try {
      fs.mkdirSync(path.join(dir, 'tmp'));
      fs.writeFileSync(path.join(dir, 'nginx.conf'), conf('lmi').conf);
      fs.writeFileSync(path.join(dir, 'api-keys.conf'), `default 0;\n"~^${'k'.repeat(48)}$" 1;\n`);
      fs.chmodSync(dir, 0o711);
      // Its stderr a file: nginx opens /dev/stderr for the access log, which a socket (Node's pipes) refuses.
      const log = path.join(dir, 'stderr.log');
      const fd = fs.openSync(log, 'a');
      const r = spawnSync(nginxBinary(), ['-t', '-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', fd] });
      fs.closeSync(fd);
      expect(fs.readFileSync(log, 'utf8')).toContain('syntax is ok');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('values that would change the configuration are refused before it is written, each one named', () => {
    const bad = {
      listen: '0.0.0.0:8080; include /etc/passwd',
      upstream: '127.0.0.1',
      healthPath: '/health; return 200',
      invocationsPath: '/v1/../admin',
      workerConnections: 0,
      maxHeadBytes: 1000,
    };
    let err: unknown;
    try {
      renderGatewayConfig(ROOT, bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeployError);
    const message = (err as DeployError).message;
    for (const name of Object.keys(bad)) expect(message).toContain(name);
    expect(() => renderGatewayConfig(ROOT, GATEWAY_DEFAULTS)).not.toThrow();
  });
});
