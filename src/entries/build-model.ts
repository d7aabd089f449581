// Bundle entry of the build-model action (dist/build-model/index.js): only runs it.
import { runAction } from '../core/action';
import * as action from '../actions/build-model';

void runAction(action);
