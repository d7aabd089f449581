/**
 * An in-memory ECR + S3 + STS for promotion tests and the benchmark. Registries are keyed by account
 * and region; blobs are real bytes with real sha256 digests, and uploads are checked the way ECR checks
 * them (parts in order, digest on completion, every referenced blob present before PutImage).
 * `serve()` puts it behind a loopback HTTP server speaking awsJson (ECR), awsQuery (STS) and REST (S3,
 * presigned layer URLs), with optional per-request latency.
 */
import { createHash } from 'crypto';
import { AwsError } from './aws-error';
import { jsonError, Loopback, queryError, queryResponse, RecordedRequest, Reply, startLoopback } from '../loopback';

export const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export { AwsError };

interface Repo {
  manifests: Map<string, { body: string; mediaType: string }>;
  tags: Map<string, string>;
  blobs: Map<string, Buffer>;
  resourceTags: Record<string, string>;
}

export interface S3Obj {
  size: number;
  etag: string;
  metadata: Record<string, string>;
  tags: string;
  kmsKeyId?: string;
  versionId?: string;
  checksum?: string;
  /** The bytes, when a test gave or uploaded them; otherwise GetObject returns `size` bytes derived from the ETag. */
  data?: Buffer;
}

interface Upload {
  bucket: string;
  key: string;
  parts: Map<number, number>;
  partData: Map<number, Buffer>;
  metadata: Record<string, string>;
  tags: string;
  kmsKeyId?: string;
  checksumAlgorithm?: string;
}

/** Object attributes a write sets (PutObject, CopyObject, CreateMultipartUpload). */
export interface S3Write {
  metadata: Record<string, string>;
  tags: string;
  kmsKeyId?: string;
  checksum?: string;
  checksumAlgorithm?: string;
}

export class FakeAws {
  registries = new Map<string, Map<string, Repo>>();
  buckets = new Map<string, Map<string, S3Obj>>();
  /** Bucket → owning account (checked against ExpectedBucketOwner when set). */
  bucketOwners = new Map<string, string>();
  /** KMS key id, ARN or alias → its KeyState when not Enabled ('missing': DescribeKey answers NotFoundException). */
  keyStates = new Map<string, string>();
  versioned = new Set<string>();
  /** Every version of every object of a versioned bucket ("bucket/key" → versions, oldest first): GET and copy ?versionId= read them. */
  history = new Map<string, S3Obj[]>();
  /** Bucket-level calls over HTTP: "CreateBucket NAME", "publicAccessBlock NAME", ... */
  bucketCalls: string[] = [];
  uploads = new Map<string, { key: string; parts: Buffer[] }>();
  mpu = new Map<string, Upload>();
  /** Upload ids aborted (AbortMultipartUpload). */
  abortedUploads: string[] = [];
  /** Access key id → account, for the STS and S3 answers (serve() adds its map; assumed roles add theirs). */
  accessKeys: Record<string, string> = {};
  /** UploadPart calls running now, the most at once, and how long each takes (so concurrency shows). */
  partsInFlight = 0;
  maxPartsInFlight = 0;
  partDelayMs = 0;
  /** Bytes of all parts stored so far (with the bytes a copy has read, what the runner holds). */
  partBytesStored = 0;
  /** How the mock's GetObject streams the bytes (default: one chunk); a test can count what the copy pulled. */
  sourceStream?: (data: Buffer) => NodeJS.ReadableStream;
  /** UploadPart of this part number fails (InternalError), to test the abort. */
  failPartNumber?: number;
  replication = new Map<string, { region: string; registryId: string; status: string }[]>();
  /** Digest whose download is corrupted (one byte flipped). */
  corrupt?: string;
  downloadBase = 'http://127.0.0.1:1';
  /** The runner's OIDC token for this job (unset: the job has no id-token permission), and the request token it wants. */
  oidcToken?: string;
  oidcRequestToken = 'runner-request-token';
  /** The audience of each token request. */
  oidcAudiences: string[] = [];
  bytesDownloaded = 0;
  private nextId = 1;

  repo(account: string, region: string, name: string, create = false): Repo {
    const key = `${account}/${region}`;
    let reg = this.registries.get(key);
    if (!reg) this.registries.set(key, (reg = new Map()));
    let repo = reg.get(name);
    if (!repo && create) reg.set(name, (repo = { manifests: new Map(), tags: new Map(), blobs: new Map(), resourceTags: {} }));
    if (!repo) throw new AwsError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${account}'`);
    return repo;
  }

  /** Pushes an image (config + layers) and returns its digest. */
  pushImage(account: string, region: string, name: string, tag: string | undefined, layers: Buffer[], platform = 'linux/amd64'): string {
    const repo = this.repo(account, region, name, true);
    const config = Buffer.from(JSON.stringify({ architecture: platform.split('/')[1], os: 'linux', rootfs: { type: 'layers' } }));
    repo.blobs.set(sha(config), config);
    for (const l of layers) repo.blobs.set(sha(l), l);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(l), size: l.length })),
    }, null, 3);
    const digest = sha(body);
    repo.manifests.set(digest, { body, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    if (tag) repo.tags.set(tag, digest);
    return digest;
  }

  pushIndex(account: string, region: string, name: string, tag: string, children: string[]): string {
    const repo = this.repo(account, region, name);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: children.map((d, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d, size: repo.manifests.get(d)!.body.length, platform: { os: 'linux', architecture: i ? 'arm64' : 'amd64' } })),
    });
    const digest = sha(body);
    repo.manifests.set(digest, { body, mediaType: 'application/vnd.oci.image.index.v1+json' });
    repo.tags.set(tag, digest);
    return digest;
  }

  /** KMS DescribeKey as the API answers it: KeyMetadata, or NotFoundException. */
  describeKey(region: string, keyId: string): Record<string, unknown> {
    const state = this.keyStates.get(keyId) ?? 'Enabled';
    if (state === 'missing') throw new AwsError('NotFoundException', `Key '${keyId}' does not exist`, 400);
    const account = /:(\d{12}):/.exec(keyId)?.[1] ?? '333333333333';
    const id = /key\/(.+)$/.exec(keyId)?.[1] ?? '1234abcd-12ab-34cd-56ef-1234567890ab';
    return { KeyMetadata: { AWSAccountId: account, KeyId: id, Arn: `arn:aws:kms:${region}:${account}:key/${id}`, Enabled: state === 'Enabled', KeyState: state, KeyManager: 'CUSTOMER', KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' } };
  }

  // ---- ECR operations (input and output shaped like the API) ----
  ecr(op: string, region: string, input: Record<string, any>): Record<string, unknown> {
    const account = input.registryId as string;
    switch (op) {
      case 'BatchGetImage': {
        const repo = this.repo(account, region, input.repositoryName);
        const images: unknown[] = [];
        const failures: unknown[] = [];
        for (const id of input.imageIds as { imageTag?: string; imageDigest?: string }[]) {
          const digest = id.imageDigest ?? repo.tags.get(id.imageTag!);
          const m = digest ? repo.manifests.get(digest) : undefined;
          if (m) images.push({ registryId: account, repositoryName: input.repositoryName, imageId: { imageDigest: digest, imageTag: id.imageTag }, imageManifest: m.body, imageManifestMediaType: m.mediaType });
          else failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
        }
        return { images, failures };
      }
      case 'DescribeImages': {
        const repo = this.repo(account, region, input.repositoryName);
        let t = 1700000000;
        const all = [...repo.tags].map(([tag, digest]) => ({ registryId: account, repositoryName: input.repositoryName, imageDigest: digest, imageTags: [tag], imagePushedAt: t++ }));
        const ids = (input.imageIds ?? []) as { imageDigest?: string; imageTag?: string }[];
        if (ids.length === 0) return { imageDetails: all };
        // With imageIds, ECR answers those images or ImageNotFoundException (API reference, DescribeImages).
        const found = ids.map((id) => (id.imageTag ? all.find((d) => d.imageTags.includes(id.imageTag!)) : (all.find((d) => d.imageDigest === id.imageDigest) ?? (repo.manifests.has(id.imageDigest ?? '') ? { registryId: account, repositoryName: input.repositoryName, imageDigest: id.imageDigest, imageTags: [], imagePushedAt: t } : undefined))));
        const missing = ids.findIndex((_, i) => !found[i]);
        if (missing >= 0) {
          const id = ids[missing]!;
          throw new AwsError('ImageNotFoundException', `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${input.repositoryName}' in the registry with id '${account}'`);
        }
        return { imageDetails: found };
      }
      case 'BatchCheckLayerAvailability': {
        const repo = this.repo(account, region, input.repositoryName);
        const layers: unknown[] = [];
        const failures: unknown[] = [];
        for (const d of input.layerDigests as string[]) {
          if (repo.blobs.has(d)) layers.push({ layerDigest: d, layerAvailability: 'AVAILABLE', layerSize: repo.blobs.get(d)!.length });
          else failures.push({ layerDigest: d, failureCode: 'MissingLayerDigest', failureReason: 'not found' });
        }
        return { layers, failures };
      }
      case 'GetDownloadUrlForLayer': {
        const repo = this.repo(account, region, input.repositoryName);
        if (!repo.blobs.has(input.layerDigest)) throw new AwsError('LayersNotFoundException', `The specified layers could not be found, or the specified layer is not valid for this repository.`);
        return { downloadUrl: `${this.downloadBase}/blob/${account}/${region}/${encodeURIComponent(input.repositoryName)}/${input.layerDigest}?X-Amz-Signature=presignedsecret`, layerDigest: input.layerDigest };
      }
      case 'InitiateLayerUpload': {
        this.repo(account, region, input.repositoryName);
        const uploadId = `up-${this.nextId++}`;
        this.uploads.set(uploadId, { key: `${account}/${region}/${input.repositoryName}`, parts: [] });
        return { uploadId, partSize: 10 * 1024 * 1024 };
      }
      case 'UploadLayerPart': {
        const up = this.uploads.get(input.uploadId)!;
        const have = up.parts.reduce((n, p) => n + p.length, 0);
        const blob = Buffer.from(input.layerPartBlob as string, 'base64');
        if (input.partFirstByte !== have || input.partLastByte !== have + blob.length - 1) throw new AwsError('InvalidLayerPartException', `expected part at ${have}`);
        up.parts.push(blob);
        return { uploadId: input.uploadId, lastByteReceived: input.partLastByte };
      }
      case 'CompleteLayerUpload': {
        const up = this.uploads.get(input.uploadId)!;
        const data = Buffer.concat(up.parts);
        const digest = (input.layerDigests as string[])[0];
        if (sha(data) !== digest) throw new AwsError('LayerDigestMismatchException', 'digest mismatch');
        this.repo(account, region, input.repositoryName).blobs.set(digest, data);
        this.uploads.delete(input.uploadId);
        return { layerDigest: digest };
      }
      case 'PutImage': {
        const repo = this.repo(account, region, input.repositoryName);
        const body = input.imageManifest as string;
        const digest = sha(body);
        if (input.imageDigest && input.imageDigest !== digest) throw new AwsError('ImageDigestDoesNotMatchException', 'digest');
        const parsed = JSON.parse(body);
        for (const d of [parsed.config, ...(parsed.layers ?? [])].filter(Boolean)) if (!repo.blobs.has(d.digest)) throw new AwsError('LayersNotFoundException', `missing ${d.digest}`);
        for (const c of parsed.manifests ?? []) if (!repo.manifests.has(c.digest)) throw new AwsError('ReferencedImagesNotFoundException', `missing ${c.digest}`);
        if (repo.manifests.has(digest) && (!input.imageTag || repo.tags.get(input.imageTag) === digest)) throw new AwsError('ImageAlreadyExistsException', 'exists');
        repo.manifests.set(digest, { body, mediaType: input.imageManifestMediaType });
        if (input.imageTag) repo.tags.set(input.imageTag, digest);
        return { image: { registryId: account, repositoryName: input.repositoryName, imageId: { imageDigest: digest, imageTag: input.imageTag }, imageManifest: body } };
      }
      case 'CreateRepository': {
        // Like ECR: a repository that exists already is an error (callers tolerate it by name).
        if (this.registries.get(`${account}/${region}`)?.has(input.repositoryName)) {
          throw new AwsError('RepositoryAlreadyExistsException', `The repository with name '${input.repositoryName}' already exists in the registry with id '${account}'`);
        }
        this.repo(account, region, input.repositoryName, true);
        return { repository: { repositoryName: input.repositoryName, registryId: account, repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${input.repositoryName}` } };
      }
      case 'TagResource': {
        const m = /:ecr:([^:]+):(\d+):repository\/(.+)$/.exec(input.resourceArn)!;
        const repo = this.repo(m[2], m[1], m[3]);
        for (const t of input.tags as { Key: string; Value: string }[]) repo.resourceTags[t.Key] = t.Value;
        return {};
      }
      case 'DescribeRepositories': {
        const names = (input.repositoryNames as string[] | undefined) ?? [...(this.registries.get(`${account}/${region}`)?.keys() ?? [])];
        const missing = names.find((n) => !this.registries.get(`${account}/${region}`)?.has(n));
        if (missing) throw new AwsError('RepositoryNotFoundException', `The repository with name '${missing}' does not exist in the registry with id '${account}'`);
        return { repositories: names.map((n) => ({ repositoryName: n, registryId: account, repositoryArn: `arn:aws:ecr:${region}:${account}:repository/${n}` })) };
      }
      case 'DescribeImageReplicationStatus':
        return { replicationStatuses: this.replication.get(input.imageId.imageDigest) ?? [] };
      default:
        throw new AwsError('UnhandledInTest', `fake ECR has no ${op}`);
    }
  }

  blob(account: string, region: string, repoName: string, digest: string): Buffer {
    const data = this.repo(account, region, repoName).blobs.get(digest)!;
    this.bytesDownloaded += data.length;
    if (this.corrupt === digest) {
      const bad = Buffer.from(data);
      bad[0] ^= 0xff;
      return bad;
    }
    return data;
  }

  /** The account an access key id belongs to: the map, or the account in the fakes' own "ASIA[TARGET|WEB]<account>" keys. */
  accountOf(accessKeyId: string | undefined): string | undefined {
    if (!accessKeyId) return undefined;
    return this.accessKeys[accessKeyId] ?? /^ASIA(?:TARGET|WEB)?(\d{12})$/.exec(accessKeyId)?.[1];
  }

  /**
   * CopyObject and UploadPartCopy read the source as the caller: S3 refuses a caller of another account
   * than the source bucket's unless a policy grants it, and no model-deploy policy does (the source is read
   * through its own read-only role).
   */
  assertCanRead(accessKeyId: string | undefined, bucket: string): void {
    const owner = this.bucketOwners.get(bucket);
    const caller = this.accountOf(accessKeyId);
    if (!owner || caller !== owner) throw new AwsError('AccessDenied', `Access Denied: ${accessKeyId ?? 'anonymous'} (account ${caller ?? 'unknown'}) may not read ${bucket} (account ${owner ?? 'unknown'})`, 403);
  }

  /** The bytes GetObject returns. */
  objectBytes(o: S3Obj): Buffer {
    return o.data ?? Buffer.alloc(o.size, createHash('md5').update(o.etag).digest()[0] ?? 0);
  }

  /** A write into a bucket: a new version in a versioned bucket, the ETag an md5 of the bytes (or of key and size). */
  writeObject(bucket: string, key: string, content: Buffer | number, w: S3Write): S3Obj {
    const b = this.buckets.get(bucket);
    if (!b) throw new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    const data = Buffer.isBuffer(content) ? content : undefined;
    const size = data ? data.length : (content as number);
    const etag = `"${createHash('md5').update(data ?? `${key}${size}`).digest('hex')}"`;
    const versionId = this.versioned.has(bucket) ? `v-${this.nextId++}` : undefined;
    const checksum = w.checksum ?? (w.checksumAlgorithm === 'SHA256' ? (data ? createHash('sha256').update(data).digest('base64') : `sha256-of-${etag}`) : undefined);
    const o: S3Obj = { size, etag, metadata: w.metadata, tags: w.tags, kmsKeyId: w.kmsKeyId, versionId, checksum, data };
    b.set(key, o);
    if (versionId) this.history.set(`${bucket}/${key}`, [...(this.history.get(`${bucket}/${key}`) ?? []), o]);
    return o;
  }

  /** The object as S3 answers GET/HEAD: the current one, or (versionId) that version, which S3 keeps after an overwrite. */
  objectAt(bucket: string, key: string, versionId?: string | null): S3Obj | undefined {
    if (!versionId) return this.buckets.get(bucket)?.get(key);
    const found = (this.history.get(`${bucket}/${key}`) ?? []).find((o) => o.versionId === versionId);
    // S3 answers a malformed or unknown version id with 400 InvalidArgument / 404 NoSuchVersion.
    if (!found) throw new AwsError('NoSuchVersion', 'The specified version does not exist.', 404);
    return found;
  }

  /** CopySource "bucket/key[?versionId=V]" (URL-encoded key) as S3 reads it. */
  copySource(source: string): { bucket: string; key: string; versionId?: string } {
    const [path = '', query = ''] = source.replace(/^\//, '').split('?');
    const [bucket = '', ...key] = path.split('/');
    const versionId = new URLSearchParams(query).get('versionId') ?? undefined;
    return { bucket, key: key.map(decodeURIComponent).join('/'), versionId };
  }

  createUpload(bucket: string, key: string, w: S3Write): string {
    const id = `mpu-${this.nextId++}`;
    this.mpu.set(id, { bucket, key, parts: new Map(), partData: new Map(), metadata: w.metadata, tags: w.tags, kmsKeyId: w.kmsKeyId, checksumAlgorithm: w.checksumAlgorithm });
    return id;
  }

  /** One part (bytes, or a size for UploadPartCopy), counting the parts in flight. */
  async uploadPart(uploadId: string, partNumber: number, content: Buffer | number): Promise<string> {
    const up = this.mpu.get(uploadId);
    if (!up) throw new AwsError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404);
    this.partsInFlight++;
    this.maxPartsInFlight = Math.max(this.maxPartsInFlight, this.partsInFlight);
    try {
      if (this.partDelayMs) await new Promise((r) => setTimeout(r, this.partDelayMs));
      if (partNumber === this.failPartNumber) throw new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
      up.parts.set(partNumber, Buffer.isBuffer(content) ? content.length : content);
      this.partBytesStored += Buffer.isBuffer(content) ? content.length : content;
      if (Buffer.isBuffer(content)) up.partData.set(partNumber, content);
      return `"part${partNumber}"`;
    } finally {
      this.partsInFlight--;
    }
  }

  completeUpload(uploadId: string, partNumbers: number[]): S3Obj {
    const up = this.mpu.get(uploadId);
    if (!up) throw new AwsError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404);
    const missing = partNumbers.filter((n) => !up.parts.has(n));
    if (missing.length || partNumbers.some((n, i) => i > 0 && n <= (partNumbers[i - 1] ?? 0))) throw new AwsError('InvalidPart', `parts ${partNumbers.join(',')}`);
    const allData = partNumbers.every((n) => up.partData.has(n));
    const content = allData ? Buffer.concat(partNumbers.map((n) => up.partData.get(n) as Buffer)) : partNumbers.reduce((a, n) => a + (up.parts.get(n) ?? 0), 0);
    this.mpu.delete(uploadId);
    const o = this.writeObject(up.bucket, up.key, content, { metadata: up.metadata, tags: up.tags, kmsKeyId: up.kmsKeyId, checksumAlgorithm: up.checksumAlgorithm });
    o.etag = `"mpu-${partNumbers.length}"`;
    if (o.checksum && up.checksumAlgorithm) o.checksum = `${o.checksum}-${partNumbers.length}`;
    return o;
  }

  abortUpload(uploadId: string): void {
    this.mpu.delete(uploadId);
    this.abortedUploads.push(uploadId);
  }

  putObject(bucket: string, key: string, size: number, etag = `"${createHash('md5').update(key + size).digest('hex')}"`): S3Obj {
    let b = this.buckets.get(bucket);
    if (!b) this.buckets.set(bucket, (b = new Map()));
    const o = { size, etag, metadata: {}, tags: '' };
    b.set(key, o);
    return o;
  }

  /** Starts the loopback server; latencyMs delays every reply (so parallelism shows in wall time). */
  async serve(latencyMs = 0, keys: Record<string, string> = {}): Promise<Loopback> {
    const accounts = Object.assign(this.accessKeys, keys);
    const server = await startLoopback(async (req) => {
      if (latencyMs) await new Promise((r) => setTimeout(r, latencyMs));
      try {
        return (await this.http(req, accounts)) ?? { status: 400, body: { __type: 'UnhandledInTest', message: `fake: no reply for ${req.call}` } };
      } catch (err) {
        if (err instanceof AwsError) return jsonError(err.name, err.message, err.status);
        throw err;
      }
    });
    this.downloadBase = server.url;
    return server;
  }

  private http(req: RecordedRequest, accounts: Record<string, string>): Reply | undefined | Promise<Reply | undefined> {
    const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
    const target = req.headers['x-amz-target'] as string | undefined;
    if (target === 'TrentService.DescribeKey') return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: this.describeKey(region, String(req.params.KeyId)) };
    if (target?.startsWith('AmazonEC2ContainerRegistry')) {
      return { headers: { 'content-type': 'application/x-amz-json-1.1' }, body: this.ecr(req.operation, region, req.params) };
    }
    const STS = 'https://sts.amazonaws.com/doc/2011-06-15/';
    if (req.operation === 'GetCallerIdentity') {
      const key = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
      const account = accounts[key] ?? '111111111111';
      return queryResponse('GetCallerIdentity', `<Arn>arn:aws:sts::${account}:assumed-role/model-deploy-dev/gh</Arn><UserId>AROA:gh</UserId><Account>${account}</Account>`, STS);
    }
    if (req.operation === 'AssumeRole') {
      const role = String(req.params.RoleArn);
      if (/denied/.test(role)) return queryError('AccessDenied', `User: arn:aws:sts::111111111111:assumed-role/model-deploy-dev/gh is not authorized to perform: sts:AssumeRole on resource: ${role}`, 403);
      const acct = /iam::(\d+):/.exec(role)![1];
      const id = `ASIATARGET${acct}`;
      accounts[id] = acct;
      return queryResponse(
        'AssumeRole',
        `<Credentials><AccessKeyId>${id}</AccessKeyId><SecretAccessKey>target-secret-${acct}</SecretAccessKey><SessionToken>target-token-${acct}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::${acct}:assumed-role/x/${req.params.RoleSessionName}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`,
        STS,
      );
    }
    if (req.operation === 'AssumeRoleWithWebIdentity') return this.webIdentity(req, accounts);
    // The runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL = URL/_oidc/token?api-version=2.0).
    if (req.method === 'GET' && req.path.startsWith('/_oidc/token')) {
      if (!this.oidcToken || req.headers.authorization !== `Bearer ${this.oidcRequestToken}`) return { status: 401, body: { message: 'bad request token' } };
      this.oidcAudiences.push(new URL(req.path, 'http://x').searchParams.get('audience') ?? '');
      return { body: { value: this.oidcToken } };
    }
    const blob = /^\/blob\/(\d+)\/([^/]+)\/([^/]+)\/(sha256:[a-f0-9]+)/.exec(req.path);
    if (req.method === 'GET' && blob) {
      return { headers: { 'content-type': 'application/octet-stream' }, body: this.blob(blob[1], blob[2], decodeURIComponent(blob[3]), blob[4]) };
    }
    return this.s3(req);
  }

  /** STS AssumeRoleWithWebIdentity: the job's token is accepted for any role but one named "denied". */
  private webIdentity(req: RecordedRequest, accounts: Record<string, string>): Reply {
    const STS = 'https://sts.amazonaws.com/doc/2011-06-15/';
    const role = String(req.params.RoleArn);
    if (!this.oidcToken || req.params.WebIdentityToken !== this.oidcToken) return queryError('InvalidIdentityToken', 'Incorrect token audience or signature', 400);
    if (/denied/.test(role)) return queryError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
    const acct = /iam::(\d+):/.exec(role)?.[1] ?? '';
    const id = `ASIAWEB${acct}`;
    accounts[id] = acct;
    return queryResponse(
      'AssumeRoleWithWebIdentity',
      `<Credentials><AccessKeyId>${id}</AccessKeyId><SecretAccessKey>web-secret-${acct}</SecretAccessKey><SessionToken>web-token-${acct}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::${acct}:assumed-role/x/${req.params.RoleSessionName}</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`,
      STS,
    );
  }

  /** S3 errors as S3 sends them (XML), so the SDK names them. */
  private async s3(req: RecordedRequest): Promise<Reply | undefined> {
    try {
      return await this.s3Op(req);
    } catch (err) {
      if (!(err instanceof AwsError)) throw err;
      return { status: err.status, headers: { 'content-type': 'application/xml' }, body: `<Error><Code>${err.name}</Code><Message>${err.message}</Message></Error>` };
    }
  }

  private async s3Op(req: RecordedRequest): Promise<Reply | undefined> {
    const url = new URL(req.path, 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const b = this.buckets.get(bucket);
    const xml = (body: string): Reply => ({ headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>${body}` });
    const noBucket: Reply = { status: 404, headers: { 'content-type': 'application/xml' }, body: `<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>` };
    if (key === '' && req.method === 'PUT' && !url.search) {
      // CreateBucket (the owner is the account in model-deploy-ACCOUNT-REGION).
      if (!b) this.buckets.set(bucket, new Map());
      const owner = /^model-deploy-(\d{12})-/.exec(bucket)?.[1];
      if (owner) this.bucketOwners.set(bucket, owner);
      this.bucketCalls.push(`CreateBucket ${bucket}`);
      return { headers: { location: `/${bucket}` }, body: '' };
    }
    if (!b) return req.method === 'HEAD' ? { status: 404, body: '' } : noBucket;
    const expected = req.headers['x-amz-expected-bucket-owner'];
    const owner = this.bucketOwners.get(bucket);
    if (expected && owner && expected !== owner && req.method === 'HEAD') return { status: 403, body: '' };
    if (expected && owner && expected !== owner) return { status: 403, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>' };
    if (key === '' && req.method === 'HEAD') return { body: '' };
    if (key === '' && req.method === 'PUT') {
      // Bucket configuration (publicAccessBlock, ownershipControls, encryption, policy, versioning).
      const setting = [...url.searchParams.keys()][0] ?? '';
      this.bucketCalls.push(`${setting} ${bucket}`);
      if (setting === 'versioning' && /<Status>Enabled<\/Status>/.test(String(req.body ?? ''))) this.versioned.add(bucket);
      return { body: '' };
    }
    if (key === '' && req.method === 'GET' && url.searchParams.has('versioning')) {
      return xml(`<VersioningConfiguration>${this.versioned.has(bucket) ? '<Status>Enabled</Status>' : ''}</VersioningConfiguration>`);
    }
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const items = [...b].filter(([k]) => k.startsWith(prefix));
      return xml(`<ListBucketResult><Name>${bucket}</Name><Prefix>${prefix}</Prefix><KeyCount>${items.length}</KeyCount><IsTruncated>false</IsTruncated>${items.map(([k, o]) => `<Contents><Key>${k}</Key><Size>${o.size}</Size><ETag>${o.etag.replace(/"/g, '&quot;')}</ETag></Contents>`).join('')}</ListBucketResult>`);
    }
    if (req.method === 'HEAD') {
      const o = this.objectAt(bucket, key, url.searchParams.get('versionId'));
      if (!o) return { status: 404, body: '' };
      const meta = Object.fromEntries(Object.entries(o.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v]));
      // With x-amz-checksum-mode: ENABLED, S3 answers the object's stored checksum too.
      const checksum: Record<string, string> = req.headers['x-amz-checksum-mode'] === 'ENABLED' && o.checksum && !o.checksum.startsWith('sha256-of') ? { 'x-amz-checksum-sha256': o.checksum } : {};
      return { headers: { 'content-length': String(o.size), etag: o.etag, 'content-type': 'application/octet-stream', ...meta, ...checksum, ...(o.versionId ? { 'x-amz-version-id': o.versionId } : {}) }, body: '' };
    }
    const meta = (): Record<string, string> => Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-amz-meta-')).map(([k, v]) => [k.slice(11), String(v)]));
    const header = (name: string) => req.headers[name] as string | undefined;
    const write = (): S3Write => ({ metadata: meta(), tags: header('x-amz-tagging') ?? '', kmsKeyId: header('x-amz-server-side-encryption-aws-kms-key-id'), checksum: header('x-amz-checksum-sha256'), checksumAlgorithm: header('x-amz-sdk-checksum-algorithm') ?? header('x-amz-checksum-algorithm') });
    // The loopback server keeps bodies as text, so a binary upload's size comes from its headers.
    const uploadedSize = () => Number(header('x-amz-decoded-content-length') ?? header('content-length') ?? 0);
    const caller = /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    const withVersion = (reply: Reply, versionId?: string): Reply => (versionId ? { ...reply, headers: { ...reply.headers, 'x-amz-version-id': versionId } } : reply);
    const source = header('x-amz-copy-source');
    const sourceObj = () => {
      const src = this.copySource(source ?? '');
      this.assertCanRead(caller, src.bucket);
      const o = this.objectAt(src.bucket, src.key, src.versionId);
      if (!o) throw new AwsError('NoSuchKey', 'The specified key does not exist.', 404);
      const ifMatch = header('x-amz-copy-source-if-match');
      if (ifMatch && ifMatch !== o.etag) throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
      return o;
    };
    const uploadId = url.searchParams.get('uploadId');
    if (req.method === 'GET' && key !== '' && !url.searchParams.has('list-type')) {
      const o = this.objectAt(bucket, key, url.searchParams.get('versionId'));
      if (!o) return { status: 404, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>' };
      if (header('if-match') && header('if-match') !== o.etag) return { status: 412, headers: { 'content-type': 'application/xml' }, body: '<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>' };
      return { headers: { 'content-type': 'application/octet-stream', etag: o.etag, ...(o.checksum && !o.checksum.startsWith('sha256-of') ? { 'x-amz-checksum-sha256': o.checksum } : {}) }, body: this.objectBytes(o) };
    }
    if (req.method === 'PUT' && source && !uploadId) {
      const o = sourceObj();
      const copy = this.writeObject(bucket, key, o.size, { ...write(), checksumAlgorithm: header('x-amz-checksum-algorithm') });
      copy.etag = `"${createHash('md5').update(`copy${key}${o.size}`).digest('hex')}"`;
      return withVersion(xml(`<CopyObjectResult><ETag>${copy.etag.replace(/"/g, '&quot;')}</ETag></CopyObjectResult>`), copy.versionId);
    }
    if (req.method === 'PUT' && !uploadId) {
      // Conditional write: If-None-Match * refuses an existing key (412), as S3 does.
      if (header('if-none-match') === '*' && b.has(key)) throw new AwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
      // A small text body sent whole (a manifest, a record) is kept, so reading it back gives its bytes.
      const text = typeof req.body === 'string' && !header('x-amz-decoded-content-length') && Buffer.byteLength(req.body) === uploadedSize() ? Buffer.from(req.body) : undefined;
      const o = this.writeObject(bucket, key, text ?? uploadedSize(), write());
      return withVersion({ headers: { etag: o.etag, ...(o.checksum ? { 'x-amz-checksum-sha256': o.checksum } : {}) }, body: '' }, o.versionId);
    }
    if (req.method === 'POST' && url.searchParams.has('uploads')) {
      const id = this.createUpload(bucket, key, write());
      return xml(`<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    }
    const partNumber = Number(url.searchParams.get('partNumber'));
    if (req.method === 'PUT' && source && uploadId) {
      sourceObj();
      const range = /bytes=(\d+)-(\d+)/.exec(String(header('x-amz-copy-source-range')));
      const etag = await this.uploadPart(uploadId, partNumber, Number(range?.[2]) - Number(range?.[1]) + 1);
      return xml(`<CopyPartResult><ETag>${etag.replace(/"/g, '&quot;')}</ETag></CopyPartResult>`);
    }
    if (req.method === 'PUT' && uploadId) return { headers: { etag: await this.uploadPart(uploadId, partNumber, uploadedSize()) }, body: '' };
    if (req.method === 'POST' && uploadId) {
      const numbers = [...String(req.body).matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      const o = this.completeUpload(uploadId, numbers);
      return withVersion(xml(`<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>${o.etag.replace(/"/g, '&quot;')}</ETag>${o.checksum ? `<ChecksumSHA256>${o.checksum}</ChecksumSHA256>` : ''}</CompleteMultipartUploadResult>`), o.versionId);
    }
    if (req.method === 'DELETE' && uploadId) {
      this.abortUpload(uploadId);
      return { status: 204, body: '' };
    }
    return undefined;
  }
}
