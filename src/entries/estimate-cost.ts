// Entry of the estimate-cost action: check inputs first, then load the flow bundle beside this file.
import { estimateCost } from '../actions/definitions/estimate-cost';
import { loadFlow, preflight } from '../core/preflight';

if (preflight(estimateCost)) loadFlow(__dirname);
