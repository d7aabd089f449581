// Bundle entry of the promote-model action (dist/promote-model/index.js): only runs it.
import { runAction } from '../core/action';
import * as action from '../actions/promote-model';

void runAction(action);
