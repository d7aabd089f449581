// Flow bundle of the deploy-endpoint action (dist/deploy-endpoint/flow/index.js), loaded by the entry after preflight.
import { deployEndpoint } from '../actions/definitions/deploy-endpoint';
import { runAction } from '../core/action';

void runAction(deployEndpoint, async () => (await import('../actions/deploy-endpoint')).run);
