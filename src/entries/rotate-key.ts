// Entry of the rotate-key action: check inputs first, then load the flow bundle beside this file.
import { rotateKey } from '../actions/definitions/rotate-key';
import { loadFlow, preflight } from '../core/preflight';

if (preflight(rotateKey)) loadFlow(__dirname);
