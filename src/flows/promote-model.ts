// Flow bundle of the promote-model action (dist/promote-model/flow/index.js), loaded by the entry after preflight.
import { promoteModel } from '../actions/definitions/promote-model';
import { runAction } from '../core/action';

void runAction(promoteModel, async () => (await import('../actions/promote-model')).run);
