// Entry of the promote-model action: check inputs first, then load the flow bundle beside this file.
import { promoteModel } from '../actions/definitions/promote-model';
import { loadFlow, preflight } from '../core/preflight';

if (preflight(promoteModel)) loadFlow(__dirname);
