import { formatImageUri, parseImageRef, parseImageUri, pinnedDigest } from '../../../src/core/image-uri';

const REG = '763104351884.dkr.ecr.us-east-1.amazonaws.com';
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('ECR image references (src/core/image-uri.ts)', () => {
  it('parses a tagged, a pinned and a tagged-and-pinned URI', () => {
    expect(parseImageUri(`${REG}/pytorch-inference:2.3-gpu`)).toEqual({ account: '763104351884', region: 'us-east-1', repositoryName: 'pytorch-inference', tag: '2.3-gpu', digest: undefined });
    expect(parseImageUri(`${REG}/acme/chat@${DIGEST}`)).toMatchObject({ repositoryName: 'acme/chat', tag: undefined, digest: DIGEST });
    expect(parseImageUri(`${REG}/acme/chat:v1@${DIGEST}`)).toMatchObject({ repositoryName: 'acme/chat', tag: 'v1', digest: DIGEST });
    expect(parseImageUri('111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn/chat:v1')).toMatchObject({ region: 'cn-north-1' });
  });

  it('parseImageUri wants a tag or a digest; parseImageRef takes an untagged REPO (FROM <dlc>, :latest)', () => {
    expect(parseImageUri(`${REG}/pytorch-inference`)).toBeUndefined();
    expect(parseImageRef(`${REG}/pytorch-inference`)).toEqual({ account: '763104351884', region: 'us-east-1', repositoryName: 'pytorch-inference', tag: undefined, digest: undefined });
    expect(parseImageRef(`${REG}/pytorch-inference:2.3-gpu`)).toMatchObject({ tag: '2.3-gpu' });
  });

  it('refuses other registries and non-URIs', () => {
    for (const ref of ['docker.io/vllm/vllm-openai:v0.6.3', 'vllm/vllm-openai', 'ghcr.io/acme/chat@' + DIGEST, '', `${REG}/`, `https://${REG}/chat:v1`]) {
      expect(parseImageRef(ref)).toBeUndefined();
      expect(parseImageUri(ref)).toBeUndefined();
    }
  });

  it('pinnedDigest reads the digest of any registry, else undefined', () => {
    expect(pinnedDigest(`${REG}/acme/chat@${DIGEST}`)).toBe(DIGEST);
    expect(pinnedDigest(`ghcr.io/acme/chat:v1@${DIGEST}`)).toBe(DIGEST);
    expect(pinnedDigest(`${REG}/acme/chat:v1`)).toBeUndefined();
    expect(pinnedDigest(`${REG}/acme/chat@sha256:abc`)).toBeUndefined();
  });

  it('formatImageUri pins by digest with the partition DNS suffix, and parses back', () => {
    const uri = formatImageUri('111111111111', 'cn-northwest-1', 'acme/chat', DIGEST);
    expect(uri).toBe(`111111111111.dkr.ecr.cn-northwest-1.amazonaws.com.cn/acme/chat@${DIGEST}`);
    expect(parseImageUri(uri)).toMatchObject({ account: '111111111111', region: 'cn-northwest-1', repositoryName: 'acme/chat', digest: DIGEST });
  });
});
