// Bundle entry of the deploy-endpoint action (dist/deploy-endpoint/index.js): only runs it.
import { runAction } from '../core/action';
import * as action from '../actions/deploy-endpoint';

void runAction(action);
