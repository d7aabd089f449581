/**
 * An in-memory Secrets Manager (the calls rotate-key makes, with the real label semantics) plus a
 * serving side that accepts the keys the MD_SERVE labels pointed at when it was last reloaded.
 * Unit tests plug it into aws-sdk-client-mock; the process test answers loopback requests with it.
 */
import { execFileSync } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import type { AddressInfo } from 'net';
import { AwsError } from './aws-error';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';

export { AwsError };

interface Version {
  id: string;
  value: string;
  stages: string[];
  created: Date;
}

export function randomKey(): string {
  return randomBytes(48).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 48).padEnd(48, 'Z');
}

export class FakeSecrets {
  arn = '';
  name = '';
  tags: Record<string, string> = {};
  versions: Version[] = [];
  policy?: string;
  exists = false;
  rotationEnabled = false;
  /** Every key value this fake ever handed out (tests grep outputs for them). */
  keys: string[] = [];
  calls: string[] = [];
  /** Keys the serving side accepts now (snapshot of MD_SERVE_A/B at the last reload). */
  served: string[] = [];
  reloads = 0;
  /** Make the next reload fail (setSecret failure). */
  failReload = 0;

  create(name: string, tags: Record<string, string>, key = randomKey(), created = new Date()): Version {
    this.exists = true;
    this.name = name;
    this.arn = `arn:aws:secretsmanager:us-east-1:111111111111:secret:${name}-AbCdEf`;
    this.tags = tags;
    const v = this.addVersion(randomUUID(), key, ['AWSCURRENT'], created);
    return v;
  }

  addVersion(id: string, key: string, stages: string[], created = new Date()): Version {
    this.keys.push(key);
    const v = { id, value: JSON.stringify({ apiKey: key, createdAt: created.toISOString() }), stages, created };
    this.versions.push(v);
    return v;
  }

  label(stage: string): Version | undefined {
    return this.versions.find((v) => v.stages.includes(stage));
  }

  keyOf(stage: string): string | undefined {
    const v = this.label(stage);
    return v ? (JSON.parse(v.value) as { apiKey: string }).apiKey : undefined;
  }

  reload(): void {
    this.reloads++;
    if (this.failReload > 0) {
      this.failReload--;
      throw new AwsError('ServiceException', 'reload failed on purpose');
    }
    this.served = [this.keyOf('MD_SERVE_A'), this.keyOf('MD_SERVE_B')].filter((k): k is string => Boolean(k));
  }

  private find(id: unknown): void {
    if (!this.exists || (id !== this.arn && id !== this.name)) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

   
  handle(op: string, p: any): any {
    this.calls.push(op);
    switch (op) {
      case 'DescribeSecret':
        this.find(p.SecretId);
        return {
          ARN: this.arn,
          Name: this.name,
          RotationEnabled: this.rotationEnabled,
          Tags: Object.entries(this.tags).map(([Key, Value]) => ({ Key, Value })),
          VersionIdsToStages: Object.fromEntries(this.versions.filter((v) => v.stages.length).map((v) => [v.id, [...v.stages]])),
        };
      case 'ListSecretVersionIds':
        this.find(p.SecretId);
        // Like Secrets Manager: versions without a label (deprecated) only with IncludeDeprecated.
        return { Versions: this.versions.filter((v) => v.stages.length || p.IncludeDeprecated).map((v) => ({ VersionId: v.id, VersionStages: [...v.stages], CreatedDate: v.created })) };
      case 'GetSecretValue': {
        this.find(p.SecretId);
        const v = p.VersionId ? this.versions.find((x) => x.id === p.VersionId) : this.label(p.VersionStage ?? 'AWSCURRENT');
        if (!v) throw new AwsError('ResourceNotFoundException', p.VersionId ? `Secrets Manager can't find the specified secret value for VersionId: ${p.VersionId}` : `Secrets Manager can't find the specified secret value for staging label: ${p.VersionStage ?? 'AWSCURRENT'}`);
        return { ARN: this.arn, VersionId: v.id, SecretString: v.value, VersionStages: v.stages };
      }
      case 'GetRandomPassword': {
        const key = randomKey();
        this.keys.push(key);
        return { RandomPassword: key.slice(0, p.PasswordLength ?? 32) };
      }
      case 'CreateSecret': {
        if (this.exists) throw new AwsError('ResourceExistsException', `The operation failed because the secret ${p.Name} already exists.`);
        const tags = Object.fromEntries((p.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
        this.create(p.Name, tags, (JSON.parse(p.SecretString) as { apiKey: string }).apiKey);
        this.keys.pop();
        return { ARN: this.arn, Name: this.name, VersionId: this.versions[0].id };
      }
      case 'PutSecretValue': {
        this.find(p.SecretId);
        const existing = this.versions.find((v) => v.id === p.ClientRequestToken);
        if (existing) {
          if (existing.value !== p.SecretString) throw new AwsError('ResourceExistsException', 'a version with this token exists with another value');
          return { ARN: this.arn, VersionId: existing.id, VersionStages: existing.stages };
        }
        for (const stage of p.VersionStages ?? ['AWSCURRENT']) for (const v of this.versions) v.stages = v.stages.filter((s) => s !== stage);
        const v = { id: p.ClientRequestToken, value: p.SecretString, stages: [...(p.VersionStages ?? [])], created: new Date() };
        this.versions.push(v);
        return { ARN: this.arn, VersionId: v.id, VersionStages: v.stages };
      }
      case 'UpdateSecretVersionStage': {
        this.find(p.SecretId);
        const stage: string = p.VersionStage;
        const holder = this.label(stage);
        if (holder && p.MoveToVersionId && holder.id !== p.MoveToVersionId && holder.id !== p.RemoveFromVersionId) {
          throw new AwsError('InvalidParameterException', `The staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`);
        }
        if (p.RemoveFromVersionId) {
          const from = this.versions.find((v) => v.id === p.RemoveFromVersionId);
          if (!from || !from.stages.includes(stage)) throw new AwsError('InvalidParameterException', `${stage} is not on ${p.RemoveFromVersionId}`);
          from.stages = from.stages.filter((s) => s !== stage);
        }
        if (p.MoveToVersionId) {
          const to = this.versions.find((v) => v.id === p.MoveToVersionId);
          if (!to) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${p.MoveToVersionId}`);
          if (stage === 'AWSCURRENT' && p.RemoveFromVersionId) {
            for (const v of this.versions) v.stages = v.stages.filter((s) => s !== 'AWSPREVIOUS');
            this.versions.find((v) => v.id === p.RemoveFromVersionId)!.stages.push('AWSPREVIOUS');
          }
          to.stages.push(stage);
        }
        return { ARN: this.arn };
      }
      case 'GetResourcePolicy':
        this.find(p.SecretId);
        return { ARN: this.arn, ResourcePolicy: this.policy };
      case 'PutResourcePolicy':
        this.find(p.SecretId);
        this.policy = p.ResourcePolicy;
        return { ARN: this.arn };
      default:
        throw new AwsError('UnhandledInTest', `fake secrets manager: ${op}`);
    }
  }
}

let certificate: { key: Buffer; cert: Buffer; caFile: string } | undefined;

/** One self-signed certificate per process for the loopback endpoints: 127.0.0.1 and localhost. */
function loopbackCertificate() {
  if (certificate) return certificate;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'md-endpoint-tls-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  certificate = { key: fs.readFileSync(key), cert: fs.readFileSync(cert), caFile: cert };
  return certificate;
}

const trustedPorts = new Set<number>();
/**
 * This process's fetch trusts the loopback certificate for connections to these ports only: Node's fetch
 * connects through tls.connect, as tests/journey/dns-hook.js relies on; everything else is checked as before.
 * (Bundles run as child processes get NODE_EXTRA_CA_CERTS=caFile instead.)
 */
function trustPort(port: number, ca: Buffer) {
  if (!trustedPorts.size) {
    // The module object itself (an `import * as` namespace is read-only).
     
    const tlsModule = require('tls') as { connect: typeof tls.connect };
    const connect = tlsModule.connect;
    tlsModule.connect = function loopbackTrust(this: unknown, ...args: unknown[]) {
      const [first] = args as [tls.ConnectionOptions | undefined];
      if (first && typeof first === 'object' && trustedPorts.has(Number(first.port))) args[0] = { ...first, ca };
      return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    } as typeof tls.connect;
  }
  trustedPorts.add(port);
}

/** The endpoint, over TLS (rotate-key sends keys over https only): accepts exactly the served keys; counts what it answered. */
export async function startEndpoint(fake: FakeSecrets, options: { status?: () => number } = {}) {
  const answered: number[] = [];
  const { key, cert, caFile } = loopbackCertificate();
  const server = https.createServer({ key, cert }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const ok = fake.served.includes(key);
      const status = ok ? options.status?.() ?? 200 : 401;
      answered.push(status);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(ok ? '{"choices":[]}' : '{"error":"unauthorized"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  trustPort(port, cert);
  return {
    url: `https://127.0.0.1:${port}`,
    /** The certificate to trust (NODE_EXTRA_CA_CERTS) in a child process. */
    caFile,
    answered,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
