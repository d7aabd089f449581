/**
 * deploy-endpoint's preflight asks ECR for the image it will deploy (by digest or by tag). Suites
 * about something else call this once at top level: ECR DescribeImages then answers, as ECR does
 * for an image it holds (ECR API reference, DescribeImages: imageDetails with registryId,
 * repositoryName, imageDigest, imageTags), for every image asked.
 */
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import type { Reply } from '../loopback';

const SOME_DIGEST = `sha256:${'0'.repeat(64)}`;

export function ecrHoldsEveryImage(): AwsClientStub<ECRClient> {
  const ecr = mockClient(ECRClient);
  ecr.on(DescribeImagesCommand).callsFake((input: { registryId?: string; repositoryName?: string; imageIds?: { imageDigest?: string; imageTag?: string }[] }) => ({
    imageDetails: (input.imageIds ?? []).map((id) => ({
      registryId: input.registryId,
      repositoryName: input.repositoryName,
      imageDigest: id.imageDigest ?? SOME_DIGEST,
      imageTags: id.imageTag ? [id.imageTag] : [],
    })),
  }));
  return ecr;
}

/** The same answer as a loopback reply (awsJson 1.1), for the process tests' own small worlds. */
export function describeImagesReply(params: Record<string, unknown>): Reply {
  const ids = (params.imageIds ?? []) as { imageDigest?: string; imageTag?: string }[];
  return {
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: { imageDetails: ids.map((id) => ({ registryId: params.registryId, repositoryName: params.repositoryName, imageDigest: id.imageDigest ?? SOME_DIGEST, imageTags: id.imageTag ? [id.imageTag] : [] })) },
  };
}
