// Bundle entry of the rotate-key action (dist/rotate-key/index.js): only runs it.
import { runAction } from '../core/action';
import * as action from '../actions/rotate-key';

void runAction(action);
