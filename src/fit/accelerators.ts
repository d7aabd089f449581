/**
 * Accelerator memory and count per instance type, as AWS publishes them on each family's instance-type
 * page (docs/spec.md "Accelerator table" lists the same figures with their sources). GPU memory is
 * the figure AWS prints per GPU (GiB as NVIDIA counts it); Inferentia2/Trainium devices are counted
 * as NeuronCores (2 per chip, the engines' tensor-parallel unit) with the chip's memory split between them.
 * SageMaker's ml.<type> hosts the same hardware as <type>.
 */

export interface Accelerators {
  /** The accelerator's name as AWS names it. */
  device: string;
  /** Devices the engine can shard across: GPUs, or NeuronCores. */
  count: number;
  /** Memory of one device, GiB. */
  memoryGiB: number;
  /** Inferentia/Trainium: the engine runs on Neuron, not CUDA. */
  neuron: boolean;
  /** The AWS page the figures come from. */
  source: string;
}

interface Family {
  device: string;
  memoryGiB: number;
  neuron?: boolean;
  source: string;
  /** size → devices. */
  sizes: Record<string, number>;
}

const FAMILIES: Record<string, Family> = {
  g4dn: {
    device: 'NVIDIA T4',
    memoryGiB: 16,
    source: 'https://aws.amazon.com/ec2/instance-types/g4/',
    sizes: { xlarge: 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '16xlarge': 1, '12xlarge': 4, metal: 8 },
  },
  g5: {
    device: 'NVIDIA A10G',
    memoryGiB: 24,
    source: 'https://aws.amazon.com/ec2/instance-types/g5/',
    sizes: { xlarge: 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '16xlarge': 1, '12xlarge': 4, '24xlarge': 4, '48xlarge': 8 },
  },
  g6: {
    device: 'NVIDIA L4',
    memoryGiB: 24,
    source: 'https://aws.amazon.com/ec2/instance-types/g6/',
    sizes: { xlarge: 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '16xlarge': 1, '12xlarge': 4, '24xlarge': 4, '48xlarge': 8 },
  },
  g6e: {
    device: 'NVIDIA L40S',
    memoryGiB: 48,
    source: 'https://aws.amazon.com/ec2/instance-types/g6e/',
    sizes: { xlarge: 1, '2xlarge': 1, '4xlarge': 1, '8xlarge': 1, '16xlarge': 1, '12xlarge': 4, '24xlarge': 4, '48xlarge': 8 },
  },
  p3: {
    device: 'NVIDIA V100',
    memoryGiB: 16,
    source: 'https://aws.amazon.com/ec2/instance-types/p3/',
    sizes: { '2xlarge': 1, '8xlarge': 4, '16xlarge': 8 },
  },
  p4d: { device: 'NVIDIA A100', memoryGiB: 40, source: 'https://aws.amazon.com/ec2/instance-types/p4/', sizes: { '24xlarge': 8 } },
  p4de: { device: 'NVIDIA A100 80GB', memoryGiB: 80, source: 'https://aws.amazon.com/ec2/instance-types/p4/', sizes: { '24xlarge': 8 } },
  p5: { device: 'NVIDIA H100', memoryGiB: 80, source: 'https://aws.amazon.com/ec2/instance-types/p5/', sizes: { '4xlarge': 1, '48xlarge': 8 } },
  p5e: { device: 'NVIDIA H200', memoryGiB: 141, source: 'https://aws.amazon.com/ec2/instance-types/p5/', sizes: { '48xlarge': 8 } },
  p5en: { device: 'NVIDIA H200', memoryGiB: 141, source: 'https://aws.amazon.com/ec2/instance-types/p5/', sizes: { '48xlarge': 8 } },
  // 32 GiB per Inferentia2 chip, 2 NeuronCores per chip.
  inf2: {
    device: 'NeuronCore-v2 (Inferentia2)',
    memoryGiB: 16,
    neuron: true,
    source: 'https://aws.amazon.com/ec2/instance-types/inf2/',
    sizes: { xlarge: 2, '8xlarge': 2, '24xlarge': 12, '48xlarge': 24 },
  },
  // 32 GiB per Trainium chip, 2 NeuronCores per chip.
  trn1: {
    device: 'NeuronCore-v2 (Trainium)',
    memoryGiB: 16,
    neuron: true,
    source: 'https://aws.amazon.com/ec2/instance-types/trn1/',
    sizes: { '2xlarge': 2, '32xlarge': 32 },
  },
};

/** The accelerators of an instance type (with or without "ml."); undefined for a CPU type or one not in the table. */
export function acceleratorsOf(instanceType: string): Accelerators | undefined {
  const [family = '', size = ''] = instanceType.replace(/^ml\./, '').split('.');
  const f = FAMILIES[family];
  const count = f?.sizes[size];
  if (!f || count === undefined) return undefined;
  return { device: f.device, count, memoryGiB: f.memoryGiB, neuron: Boolean(f.neuron), source: f.source };
}

/** Every instance type of the table (EC2 names), for "which types can hold it". */
export function acceleratedTypes(): string[] {
  return Object.entries(FAMILIES).flatMap(([family, f]) => Object.keys(f.sizes).map((size) => `${family}.${size}`));
}
