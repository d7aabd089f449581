// Entry of the build-model action: check inputs first, then load the flow bundle beside this file.
import { buildModel } from '../actions/definitions/build-model';
import { loadFlow, preflight } from '../core/preflight';

if (preflight(buildModel)) loadFlow(__dirname);
