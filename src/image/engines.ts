/**
 * What each engine needs in the image: a base image pinned by version, always an AWS Deep Learning
 * Container in the build's region. A version with no DLC is refused (never a silent pull from a
 * rate-limited public registry): the user picks a listed version, or gives the image explicitly (a
 * custom Dockerfile, or a prebuilt model.image). How each engine starts behind the gateway lives in
 * its Dockerfile template (templates/build/Dockerfile.<engine>); which of its routes the gateway calls, here.
 */
import { parseImageRef } from '../core/image-uri';
import { DeployError, SourceLocation } from '../core/errors';
import type { Deployment, EngineName } from '../config/types';
import { neuronCores } from '../config/instance-types';
import { DLC_ACCOUNT_IDS, dlcAccount, dlcRegistry } from '../config/image-region';

export { dlcAccount, dlcRegistry };

/** The Dockerfile ARG that build-model fills with the region's DLC registry. */
export const DLC_REGISTRY_ARG = 'DLC_REGISTRY';
const ARG_FROM = new RegExp(`^\\$\\{?${DLC_REGISTRY_ARG}\\}?/([^:@\\s]+)`);

/** The image of each FROM line (flags such as --platform skipped). */
function fromImages(dockerfile: string): string[] {
  return dockerfile
    .split('\n')
    .map((line) => /^\s*FROM\s+(.*)$/i.exec(line)?.[1]?.split(/\s+/).find((word) => !word.startsWith('--')))
    .filter((image): image is string => Boolean(image));
}

/**
 * A custom Dockerfile's Deep Learning Container base, if any: CodeBuild logs in to that registry
 * and may pull only that repository. A DLC of another region is refused: the build's role and
 * login are for the build's region, and a cross-region pull of a multi-GB base is slow.
 */
export function customDlcBase(dockerfile: string, region: string): { repository: string } | undefined {
  for (const image of fromImages(dockerfile)) {
    const arg = ARG_FROM.exec(image);
    if (arg?.[1]) return { repository: arg[1] };
    // Only the registry and repository matter: the tag may be a build ARG (:${TAG}) or absent.
    const base = parseImageRef(image.replace(/[:@].*$/, ''));
    if (!base || !DLC_ACCOUNT_IDS.has(base.account)) continue;
    if (base.region !== region || base.account !== dlcAccount(region)) {
      throw new DeployError(`the custom Dockerfile's base ${image} is a Deep Learning Container of ${base.region}, but this build runs in ${region}`, {
        title: 'Deep Learning Container of another region',
        hint: `Use ${dlcRegistry(region)}/${base.repositoryName}, or write ARG ${DLC_REGISTRY_ARG} then FROM \${${DLC_REGISTRY_ARG}}/${base.repositoryName}:TAG: build-model passes each region's registry.`,
      });
    }
    return { repository: base.repositoryName };
  }
  return undefined;
}

type BuiltInEngine = Exclude<EngineName, 'custom'>;

interface EngineInfo {
  defaultVersion: string;
  /** DLC repository and the tag of each engine version it publishes. */
  dlcRepository: string;
  dlcTags: Record<string, string>;
  /** The engine's Neuron (Inferentia/Trainium) DLC, when a verified one exists. */
  neuron?: NeuronBuild;
}

interface NeuronBuild {
  defaultVersion: string;
  dlcRepository: string;
  dlcTags: Record<string, string>;
  /** The variable that sets the tensor-parallel degree (the instance's NeuronCores). */
  coresVariable: string;
}

export const ENGINES: Record<BuiltInEngine, EngineInfo> = {
  vllm: {
    defaultVersion: '0.8.5',
    dlcRepository: 'vllm',
    dlcTags: {
      '0.8.5': '0.8.5-gpu-py312-ec2',
      '0.9.0': '0.9.0-gpu-py312-ec2',
    },
  },
  tgi: {
    defaultVersion: '2.4.0',
    dlcRepository: 'huggingface-pytorch-tgi-inference',
    dlcTags: {
      '2.4.0': '2.4.0-tgi2.4.0-gpu-py311-cu124-ubuntu22.04',
      '3.0.1': '2.4.0-tgi3.0.1-gpu-py311-cu124-ubuntu22.04-v2.0',
    },
    // TGI 2.1.2 on optimum-neuron 0.0.28 (aws/deep-learning-containers available_images).
    neuron: {
      defaultVersion: '2.1.2',
      dlcRepository: 'huggingface-pytorch-tgi-inference',
      dlcTags: { '2.1.2': '2.1.2-optimum0.0.28-neuronx-py310-ubuntu22.04-v1.2' },
      coresVariable: 'HF_NUM_CORES',
    },
  },
  lmi: {
    defaultVersion: '0.31.0',
    dlcRepository: 'djl-inference',
    dlcTags: {
      '0.29.0': '0.29.0-lmi11.0.0-cu124',
      '0.30.0': '0.30.0-lmi12.0.0-cu124',
      '0.31.0': '0.31.0-lmi13.0.0-cu124',
    },
    // LMI neuronx (transformers-neuronx), aws/deep-learning-containers available_images.
    neuron: {
      defaultVersion: '0.30.0',
      dlcRepository: 'djl-inference',
      dlcTags: { '0.29.0': '0.29.0-neuronx-sdk2.19.1', '0.30.0': '0.30.0-neuronx-sdk2.20.1' },
      coresVariable: 'OPTION_TENSOR_PARALLEL_DEGREE',
    },
  },
};

export interface ResolvedEngine {
  name: EngineName;
  version: string;
  baseImage?: string;
  /** True when the base image is a DLC (CodeBuild must log in to its registry): every built-in engine's is. */
  fromDlc: boolean;
  /** The DLC repository the build pulls from (its role may read only that one). */
  baseRepository?: string;
  /** Neuron builds: the variable and value of the tensor-parallel degree (engine.env overrides it). */
  neuronEnv?: Record<string, string>;
}

/**
 * The engine routes the gateway calls: its health route (for /ping) and the one SageMaker's POST
 * /invocations goes to. DJL Serving (LMI) answers SageMaker's own routes; vLLM and TGI the OpenAI ones.
 * A custom image gets the OpenAI ones.
 */
export function servingRoutes(engine: EngineName): { healthPath: string; invocationsPath: string } {
  return engine === 'lmi' ? { healthPath: '/ping', invocationsPath: '/invocations' } : { healthPath: '/health', invocationsPath: '/v1/chat/completions' };
}

export function engineOf(d: Deployment): BuiltInEngine | 'custom' {
  if (!d.engine) throw new DeployError(`deployment ${d.name} has no engine: nothing to build`, { title: 'Nothing to build' });
  const name = d.engine.name;
  if (name !== 'custom' && !(name in ENGINES)) {
    throw new DeployError(`engine "${name}" is not supported`, {
      title: 'Unknown engine',
      location: d.source,
      hint: `Valid engines: ${[...Object.keys(ENGINES), 'custom'].join(', ')}.`,
    });
  }
  return name;
}

/** An Inferentia/Trainium instance: the engine's Neuron DLC, never a CUDA image. */
function resolveNeuron(d: Deployment, name: BuiltInEngine, cores: number, region: string): ResolvedEngine {
  const build = ENGINES[name].neuron;
  const working = Object.entries(ENGINES).filter(([, e]) => e.neuron).map(([n]) => n);
  if (!build) {
    throw new DeployError(`engine ${name} has no verified Neuron build for ${d.instanceType}`, {
      title: 'No Neuron build', location: d.source, hint: `Use engine ${working.join(' or ')}, or a GPU instance type.`,
    });
  }
  const version = d.engine?.version ?? build.defaultVersion;
  const tag = build.dlcTags[version];
  if (!tag) {
    throw new DeployError(`${name} ${version} has no Neuron build for ${d.instanceType}`, {
      title: 'No Neuron build', location: d.source,
      hint: `Neuron builds of ${name}: ${Object.keys(build.dlcTags).join(', ')}. Set engine.version to one of them, or leave it out.`,
    });
  }
  const baseImage = `${dlcRegistry(region)}/${build.dlcRepository}:${tag}`;
  return { name, version, baseImage, fromDlc: true, baseRepository: build.dlcRepository, neuronEnv: { [build.coresVariable]: String(cores) } };
}

/** An engine version without a Deep Learning Container: the versions that have one, and how to give an image. */
function unknownVersion(d: Deployment, name: BuiltInEngine, version: string, at: SourceLocation | undefined): DeployError {
  const info = ENGINES[name];
  const versions = Object.keys(info.dlcTags);
  return new DeployError(`deployments.${d.name}: ${name} ${version} has no AWS Deep Learning Container, so model-deploy has no base image for it`, {
    title: 'Unknown engine version',
    location: at ?? d.source,
    hint:
      `${name} versions with a Deep Learning Container: ${versions.join(', ')} (leave engine.version out for ${info.defaultVersion}). ` +
      'To run another version, give the image yourself: engine: { name: custom, dockerfile: <path> } with your own FROM, or model.image with a prebuilt image in ECR.',
  });
}

/** The engine of a deployment and its base image; `at` is where engine.version is written, for the refusal. */
export function resolveEngine(d: Deployment, region: string, at?: SourceLocation): ResolvedEngine {
  const name = engineOf(d);
  if (name === 'custom') return { name, version: d.engine?.version ?? 'custom', fromDlc: false };
  const cores = neuronCores(d.instanceType);
  if (cores !== undefined) return resolveNeuron(d, name, cores, region);
  const info = ENGINES[name];
  const version = d.engine?.version ?? info.defaultVersion;
  const tag = info.dlcTags[version];
  if (!tag) throw unknownVersion(d, name, version, at);
  return { name, version, baseImage: `${dlcRegistry(region)}/${info.dlcRepository}:${tag}`, fromDlc: true, baseRepository: info.dlcRepository };
}
