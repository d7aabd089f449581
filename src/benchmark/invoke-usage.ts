/** `model-deploy invoke`'s usage and flags, apart from the command so listing them loads no AWS client. */
export const INVOKE_USAGE = `model-deploy invoke [--config FILE] [--deployment NAME] [--environment ENV] [--region REGION]
    --body JSON|@FILE [--content-type TYPE] [--path /invocations] [--timeout SECONDS]

Sends one request to a deployed endpoint and prints the answer, with your AWS credentials:
SageMaker real-time (InvokeEndpoint), SageMaker async (the body uploaded under the endpoint's input
prefix, InvokeEndpointAsync, then the output or failure object awaited), ecs/ec2 (HTTPS with the API
key read from its secret; the key is never printed).

  --config FILE          The spec (default: model-deploy.yml).
  --deployment NAME      The deployment (default: the only one).
  --environment ENV      The environment it is deployed in.
  --region REGION        The region (default: the deployment's only region; required when it has several).
  --body JSON|@FILE      The request body, inline or from a file.
  --content-type TYPE    Default application/json.
  --path PATH            ecs/ec2: the path on the service (default /invocations).
  --timeout SECONDS      How long to wait for the answer (default 300; async up to 3600).
`;

export const INVOKE_FLAGS = ['config', 'deployment', 'environment', 'region', 'body', 'content-type', 'path', 'timeout'] as const;
