/**
 * Which image a SageMaker endpoint can pull in a region: the Deep Learning Container registries
 * (one account per region) and the rule the spec check (src/config/checks.ts), the deploy render
 * and the image build share.
 */
import { dnsSuffix } from '../core/aws';
import { parseImageUri } from '../core/image-uri';

/** DLC registry account per region (763104351884 everywhere else). */
const DLC_ACCOUNTS: Record<string, string> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-northeast-3': '364406365360',
  'ap-southeast-3': '907027046896',
  'eu-south-1': '692866216735',
  'me-south-1': '217643126080',
  'me-central-1': '914824155844',
  'il-central-1': '780543022126',
  'ca-west-1': '204538143572',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
};

export function dlcAccount(region: string): string {
  return DLC_ACCOUNTS[region] ?? '763104351884';
}

export function dlcRegistry(region: string): string {
  return `${dlcAccount(region)}.dkr.ecr.${region}.${dnsSuffix(region)}`;
}

/** Every DLC registry account: an image of one of them is a Deep Learning Container. */
export const DLC_ACCOUNT_IDS = new Set([...Object.values(DLC_ACCOUNTS), '763104351884']);

/**
 * The image a SageMaker endpoint in `region` pulls for `uri`: SageMaker pulls a model's image only
 * from ECR in the endpoint's own region. A Deep Learning Container tag is published in every
 * region's DLC registry, so it maps to the same repository and tag there (a digest may differ per
 * region: not mapped). Undefined: the image is in another region and nothing maps it. A URI that is
 * not ECR is returned as is (the stack refuses other registries with its own message).
 */
export function imageForRegion(uri: string, region: string): string | undefined {
  const image = parseImageUri(uri);
  if (!image || image.region === region) return uri;
  if (DLC_ACCOUNT_IDS.has(image.account) && image.tag && !image.digest) return `${dlcRegistry(region)}/${image.repositoryName}:${image.tag}`;
  return undefined;
}

/** Why an image in another region cannot serve a SageMaker endpoint, and what to do. */
export function imageRegionHint(uri: string, region: string): string {
  return `SageMaker pulls a model's image from ECR in the endpoint's region only. Replicate the repository to ${region} (an ECR replication rule), then give each region its own image: deploy-endpoint's image-uris input ({"${region}": "<account>.dkr.ecr.${region}.${dnsSuffix(region)}/<repository>:<tag>"}), or a deployment per region. Deep Learning Container tags (not digests) are mapped to each region's registry by themselves.${uri.includes('@') ? ' This image is pinned by digest: use its tag.' : ''}`;
}
