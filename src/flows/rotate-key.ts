// Flow bundle of the rotate-key action (dist/rotate-key/flow/index.js), loaded by the entry after preflight.
import { rotateKey } from '../actions/definitions/rotate-key';
import { runAction } from '../core/action';

void runAction(rotateKey, async () => (await import('../actions/rotate-key')).run);
