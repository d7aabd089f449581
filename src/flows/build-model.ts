// Flow bundle of the build-model action (dist/build-model/flow/index.js), loaded by the entry after preflight.
import { buildModel } from '../actions/definitions/build-model';
import { runAction } from '../core/action';

void runAction(buildModel, async () => (await import('../actions/build-model')).run);
