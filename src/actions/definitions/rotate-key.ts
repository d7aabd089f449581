import { ActionDefinition, COMMON_INPUTS } from './types';

export const rotateKey: ActionDefinition = {
  name: 'rotate-key',
  title: 'model-deploy: rotate API key',
  description: "Creates or rotates an endpoint's API key in Secrets Manager, with a grace period in which the previous key still works.",
  inputs: {
    ...COMMON_INPUTS,
    'grace-period-hours': {
      description:
        'How long the previous key keeps working after a rotation, 0-720 (default: apiKey.gracePeriodHours from the spec, 24). A rotation inside the previous grace period is refused; 0 retires the previous key at once (after a leak).',
      type: 'number',
    },
    'endpoint-url': { description: 'Endpoint to test the keys against (default: the URL output of the stack).' },
    'create-only': { description: 'Create the secret if missing, but do not rotate an existing one.', type: 'boolean', default: 'false' },
    'refresh-only': {
      description: 'Do not make a new key: retire the previous key if its grace period is over, undo an interrupted rotation, repair the serving labels.',
      type: 'boolean',
      default: 'false',
    },
    'timeout-minutes': { description: 'How long to wait for the serving side to load new keys (ECS deployment, SSM command).', type: 'integer', default: '30' },
  },
  outputs: {
    'secret-arn': { description: 'ARN of the secret holding the key (several regions: comma-separated, in region order).' },
    'version-id': { description: 'Secrets Manager version id of the current key (several regions: comma-separated).' },
    rotated: { description: 'true when a new key became current (in every region).' },
    created: { description: 'true when the secret was created by this run (in any region).' },
  },
};
