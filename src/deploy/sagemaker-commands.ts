/**
 * The two SageMaker commands the quota check adds to core/sdk/sagemaker.ts's DescribeEndpoint, loaded
 * the same way (the ES-module build, so the bundle keeps their schemas only: the package entry adds
 * ~450 KB). Belongs in core/sdk/sagemaker.ts; kept here until that file takes them.
 */
import type * as SageMaker from '@aws-sdk/client-sagemaker';

/* eslint-disable @typescript-eslint/no-require-imports */
export const { ListEndpointsCommand } = require('@aws-sdk/client-sagemaker/dist-es/commands/ListEndpointsCommand.js') as Pick<typeof SageMaker, 'ListEndpointsCommand'>;
export const { DescribeEndpointConfigCommand } = require('@aws-sdk/client-sagemaker/dist-es/commands/DescribeEndpointConfigCommand.js') as Pick<typeof SageMaker, 'DescribeEndpointConfigCommand'>;
/* eslint-enable @typescript-eslint/no-require-imports */
