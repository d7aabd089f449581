// Entry of the deploy-endpoint action: check inputs first, then load the flow bundle beside this file.
import { deployEndpoint } from '../actions/definitions/deploy-endpoint';
import { loadFlow, preflight } from '../core/preflight';

if (preflight(deployEndpoint)) loadFlow(__dirname);
