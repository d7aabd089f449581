// The bundler inlines package.json, so the bundles know their version without reading files.
import pkg from '../../package.json';

export const PROJECT = 'model-deploy-actions';
export const VERSION: string = pkg.version;
