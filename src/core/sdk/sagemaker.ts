/**
 * The SageMaker client and the one command we call, from the SDK's ES-module build: the bundler then
 * keeps only DescribeEndpoint's schemas instead of all 400 operations (260 KB less per bundle).
 * jest.config.js maps these paths back to the package itself, so tests mock the same class.
 */
import type * as SageMaker from '@aws-sdk/client-sagemaker';

/* eslint-disable @typescript-eslint/no-require-imports */
export const { SageMakerClient } = require('@aws-sdk/client-sagemaker/dist-es/SageMakerClient.js') as Pick<typeof SageMaker, 'SageMakerClient'>;
export const { DescribeEndpointCommand } = require('@aws-sdk/client-sagemaker/dist-es/commands/DescribeEndpointCommand.js') as Pick<typeof SageMaker, 'DescribeEndpointCommand'>;
/* eslint-enable @typescript-eslint/no-require-imports */
