// Bundle entry of the cost-report action (dist/cost-report/index.js): only runs it.
import { runAction } from '../core/action';
import * as action from '../actions/cost-report';

void runAction(action);
