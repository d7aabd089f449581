// Bundle entry of the estimate-cost action (dist/estimate-cost/index.js): only runs it.
import { runAction } from '../core/action';
import * as action from '../actions/estimate-cost';

void runAction(action);
