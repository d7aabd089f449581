/**
 * Instance types we know exist, per target kind. Used to reject typos with suggestions; whether a
 * type has a price is the cost catalogue's business.
 */
import { nearest } from './suggest';

const SIZES = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'];

const FAMILIES: Record<string, string[]> = {
  g4dn: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'],
  g5: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  g6: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  g6e: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  p3: ['2xlarge', '8xlarge', '16xlarge'],
  p4d: ['24xlarge'],
  p4de: ['24xlarge'],
  p5: ['4xlarge', '48xlarge'],
  p5e: ['48xlarge'],
  p5en: ['48xlarge'],
  inf2: ['xlarge', '8xlarge', '24xlarge', '48xlarge'],
  trn1: ['2xlarge', '32xlarge'],
  m5: ['large', 'xlarge', '2xlarge', '4xlarge', '12xlarge', '24xlarge'],
  c5: ['large', 'xlarge', '2xlarge', '4xlarge', '9xlarge', '18xlarge'],
  c7i: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  m6i: SIZES.filter((s) => s !== '48xlarge'),
  r5: ['large', 'xlarge', '2xlarge', '4xlarge', '12xlarge', '24xlarge'],
};

const EC2_ONLY = new Set(['p4de', 'p5en', 'p5e']);

export const EC2_INSTANCE_TYPES: readonly string[] = Object.entries(FAMILIES).flatMap(([family, sizes]) =>
  sizes.map((s) => `${family}.${s}`),
);

export const SAGEMAKER_INSTANCE_TYPES: readonly string[] = Object.entries(FAMILIES)
  .filter(([family]) => !EC2_ONLY.has(family))
  .flatMap(([family, sizes]) => sizes.map((s) => `ml.${family}.${s}`));

/** Families with an accelerator (GPU, Inferentia, Trainium). */
export function isAccelerated(instanceType: string): boolean {
  const family = instanceType.replace(/^ml\./, '').split('.')[0] ?? '';
  return /^(g4dn|g5|g6|g6e|p3|p4d|p4de|p5|p5e|p5en|inf2|trn1)$/.test(family);
}

/** NeuronCores per Inferentia2/Trainium1 instance (2 per chip): the engines' tensor-parallel degree. */
const NEURON_CORES: Record<string, number> = {
  'inf2.xlarge': 2,
  'inf2.8xlarge': 2,
  'inf2.24xlarge': 12,
  'inf2.48xlarge': 24,
  'trn1.2xlarge': 2,
  'trn1.32xlarge': 32,
};

/** The NeuronCores of an AWS Neuron instance (with or without "ml."); undefined for any other type. */
export function neuronCores(instanceType: string): number | undefined {
  return NEURON_CORES[instanceType.replace(/^ml\./, '')];
}

export function knownInstanceTypes(target: string): readonly string[] {
  return target.startsWith('sagemaker') ? SAGEMAKER_INSTANCE_TYPES : EC2_INSTANCE_TYPES;
}

/** Previous-generation families we refuse, and the current family to use instead. */
const PREVIOUS_GENERATION: Record<string, string> = {
  m3: 'm5',
  m4: 'm5',
  c3: 'c5',
  c4: 'c5',
  r3: 'r5',
  r4: 'r5',
  t2: 'm5',
  p2: 'g5',
  g2: 'g4dn',
  g3: 'g4dn',
  g3s: 'g4dn',
};

/** For a previous-generation type: its family and the nearest current type of the same target. */
export function previousGeneration(instanceType: string, target: string): { family: string; current: string } | undefined {
  const ml = instanceType.startsWith('ml.') ? 'ml.' : '';
  const [family = '', size = ''] = instanceType.slice(ml.length).split('.');
  const newer = PREVIOUS_GENERATION[family];
  if (!newer) return undefined;
  const candidates = knownInstanceTypes(target).filter((t) => t.startsWith(`${ml}${newer}.`));
  const same = `${ml}${newer}.${size}`;
  const current = candidates.includes(same) ? same : nearest(same, candidates, 1)[0] ?? same;
  return { family, current };
}
