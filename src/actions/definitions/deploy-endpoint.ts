import { ActionDefinition, COMMON_INPUTS } from './types';

export const deployEndpoint: ActionDefinition = {
  name: 'deploy-endpoint',
  title: 'model-deploy: deploy endpoint',
  description: 'Deploys a model endpoint with CloudFormation (SageMaker real-time or async, EC2, ECS): change set first, live events, safe rollback.',
  inputs: {
    ...COMMON_INPUTS,
    mode: {
      description: 'create-and-execute, create-only (show the change set, e.g. on a PR), execute-only (a change set made before), or destroy.',
      type: 'choice',
      choices: ['create-and-execute', 'create-only', 'execute-only', 'destroy'],
      default: 'create-and-execute',
    },
    'change-set-name': {
      description: 'Change set to create or execute (default md-<first 7 of the commit sha>, so create-only on a PR and execute-only after it agree).',
    },
    'image-uri': { description: 'Serving image (the image-uri output of build-model; default: model.image from the spec).' },
    'model-data-url': { description: 'Model weights in S3 (the model-data-url output of build-model; default: model.s3 from the spec).' },
    'timeout-minutes': { description: 'How long to wait for the stack (SageMaker endpoints can take an hour).', type: 'integer', default: '60' },
    'fail-on-empty-changeset': { description: 'Fail when there is nothing to change (default: succeed as a no-op).', type: 'boolean', default: 'false' },
    'skip-quota-check': { description: 'Do not check Service Quotas before deploying.', type: 'boolean', default: 'false' },
    'smoke-test': { description: 'Invoke the endpoint with the spec smokeTest payload after the deploy.', type: 'boolean', default: 'true' },
    'template-bucket': { description: 'S3 bucket for templates over 51,200 bytes (default: the artifact bucket).' },
    'github-token': { description: 'Token for GitHub deployments and statuses.', default: '${{ github.token }}', secret: true },
  },
  outputs: {
    'stack-name': { description: 'CloudFormation stack name.' },
    'stack-id': { description: 'CloudFormation stack id.' },
    'endpoint-name': { description: 'SageMaker endpoint name, or the service name for ec2/ecs.' },
    'endpoint-arn': { description: 'ARN of the endpoint.' },
    'endpoint-url': { description: 'URL clients call.' },
    'change-set-id': { description: 'The change set created (create-only) or executed.' },
    'changes-markdown': { description: 'The change set rendered as markdown.' },
    'has-changes': { description: 'false when the change set was empty.' },
    outputs: { description: 'Every stack output, as a JSON object (several regions: the first region\'s, plus byRegion with each region).' },
  },
};
