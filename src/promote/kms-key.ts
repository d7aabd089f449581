/** The target environment's KMS key in each target region: the one rule, in config (validate checks it too). */
export { kmsKeyIn } from '../config/region-truth';
