// Flow bundle of the estimate-cost action (dist/estimate-cost/flow/index.js), loaded by the entry after preflight.
import { estimateCost } from '../actions/definitions/estimate-cost';
import { runAction } from '../core/action';

void runAction(estimateCost, async () => (await import('../actions/estimate-cost')).run);
