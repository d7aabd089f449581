import { ActionDefinition, COMMON_INPUTS } from './types';

export const rotateKey: ActionDefinition = {
  name: 'rotate-key',
  title: 'model-deploy: rotate API key',
  description: "Creates or rotates an endpoint's API key in Secrets Manager, with a grace period in which the previous key still works.",
  inputs: {
    ...COMMON_INPUTS,
    'grace-period-hours': { description: 'How long the previous key keeps working (default: apiKey.gracePeriodHours from the spec, 24).', type: 'number' },
    'endpoint-url': { description: 'Endpoint to test the keys against (default: the stack output).' },
    'create-only': { description: 'Create the secret if missing, but do not rotate an existing one.', type: 'boolean', default: 'false' },
  },
  outputs: {
    'secret-arn': { description: 'ARN of the secret holding the key.' },
    'version-id': { description: 'Secrets Manager version id of the current key.' },
    rotated: { description: 'true when a new key became current.' },
    created: { description: 'true when the secret was created by this run.' },
  },
};
