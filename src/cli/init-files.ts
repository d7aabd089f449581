/**
 * What `model-deploy init` writes, from the answers: model-deploy.yml and the caller workflows of
 * docs/getting-started.md, generalised: the deploy workflow has a matrix over the deployments, the role
 * ARNs are read from one place (the MODEL_DEPLOY_ROLES repository variable, whose values the bootstrap
 * prints), never written into the spec. Pure: no file is read or written here.
 */
import type { TargetKind } from '../config/types';

export interface InitAnswers {
  project: string;
  deployment: string;
  /** A Hugging Face model id (owner/name). */
  model: string;
  revision: string;
  engine: 'vllm' | 'tgi' | 'lmi';
  target: TargetKind;
  instanceType: string;
  regions: string[];
  /** Environment -> 12-digit account, in promotion order (the first is where main deploys). */
  accounts: [string, string][];
  /** OWNER/model-deploy-actions and the ref the callers pin (a tag or a commit SHA). */
  actionsRepository: string;
  actionsRef: string;
  /** The release a commit-SHA ref is, written beside it (# v1.2.3) so a reader and Dependabot know it. */
  actionsVersion?: string;
  /** The default branch: its pushes deploy. */
  branch: string;
  /** ec2 and ecs serve HTTPS in a VPC. */
  network?: { certificateArn: string; vpcId: string; subnets: string[]; securityGroups: string[]; publicSubnets?: string[] };
}

export interface InitFile {
  path: string;
  content: string;
}

/** The default instance type of a target: a single-GPU type every region of the price list has. */
export function defaultInstanceType(target: TargetKind): string {
  return target.startsWith('sagemaker') ? 'ml.g5.2xlarge' : 'g5.2xlarge';
}

/** A deployment name from a model id: Qwen/Qwen2.5-7B-Instruct -> qwen2-5-7b-instruct. */
export function deploymentNameOf(model: string): string {
  const base = (model.split('/').pop() ?? model).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (/^[a-z]/.test(base) ? base : `m-${base}`).slice(0, 40).replace(/-+$/, '') || 'model';
}

const list = (items: string[]) => `[${items.join(', ')}]`;

function specText(a: InitAnswers): string {
  const envs = a.accounts.map(([env, account]) => `  ${env}:\n    account: "${account}"`).join('\n');
  const network = a.network
    ? [
        '    security:',
        `      certificateArn: ${a.network.certificateArn}`,
        '      vpc:',
        `        vpcId: ${a.network.vpcId}`,
        `        subnets: ${list(a.network.subnets)}`,
        ...(a.network.publicSubnets?.length ? [`        publicSubnets: ${list(a.network.publicSubnets)}`] : []),
        `        securityGroups: ${list(a.network.securityGroups)}`,
      ]
    : [];
  return [
    '# yaml-language-server: $schema=https://raw.githubusercontent.com/' + `${a.actionsRepository}/${a.actionsRef}/schema/model-deploy.schema.json`,
    '#',
    '# Written by model-deploy init. Check it with `model-deploy validate`, see what it deploys and costs with',
    '# `model-deploy plan`. The role ARNs are not here: the workflows read them from the MODEL_DEPLOY_ROLES',
    '# repository variable (what `model-deploy bootstrap` prints for each environment).',
    'version: 1',
    `project: ${a.project}`,
    '',
    'environments:',
    envs,
    '',
    'deployments:',
    `  ${a.deployment}:`,
    '    model:',
    '      huggingface:',
    `        id: ${a.model}`,
    `        revision: ${a.revision}`,
    '    engine:',
    `      name: ${a.engine}`,
    `    target: ${a.target}`,
    `    instanceType: ${a.instanceType}`,
    '    instanceCount: 1',
    `    regions: ${list(a.regions)}`,
    ...network,
    '',
  ].join('\n');
}

/** A caller job's `uses:` of one of our reusable workflows (a SHA with the release it is). */
const uses = (a: InitAnswers, workflow: string) =>
  `${a.actionsRepository}/.github/workflows/${workflow}@${a.actionsRef}${/^[0-9a-f]{40}$/.test(a.actionsRef) && a.actionsVersion ? ` # ${a.actionsVersion}` : ''}`;

function costWorkflow(a: InitAnswers): string {
  return `# The cost of a change to model-deploy.yml, on every pull request: a read-only token, no AWS credentials,
# so it is safe for forks. model-cost-comment.yml posts the result.
name: model cost
on:
  pull_request:
    paths: [model-deploy.yml]
permissions: {}
jobs:
  estimate:
    permissions:
      contents: read
    uses: ${uses(a, 'cost-comment.yml')}
    with:
      max-monthly-increase: 25%
`;
}

function costCommentWorkflow(a: InitAnswers): string {
  return `# Posts the estimate of "model cost" on its pull request. workflow_run workflows run only from the
# default branch: this file takes effect once it is merged there.
name: model cost comment
on:
  workflow_run:
    workflows: [model cost]
    types: [completed]
permissions: {}
jobs:
  comment:
    permissions:
      actions: read
      contents: read
      pull-requests: write
    uses: ${uses(a, 'cost-comment-post.yml')}
    with:
      max-monthly-increase: 25%
`;
}

/** Shared by every job that assumes a role: the one place the ARNs come from. */
const ROLE_INPUTS = `      roles: \${{ vars.MODEL_DEPLOY_ROLES }}
      aws-region: \${{ vars.MODEL_DEPLOY_AWS_REGION }}`;

function deployWorkflow(a: InitAnswers, deployments: string[], environment: string): string {
  return `# Builds and deploys every deployment of model-deploy.yml to ${environment} when ${a.branch} changes it.
name: model deploy
on:
  push:
    branches: [${a.branch}]
    paths: [model-deploy.yml]
  workflow_dispatch:
permissions: {}
jobs:
  deploy:
    strategy:
      fail-fast: false
      matrix:
        deployment: ${list(deployments)}
    permissions:
      contents: read
      id-token: write
      deployments: write
    uses: ${uses(a, 'build-and-deploy.yml')}
    with:
      environment: ${environment}
      deployment: \${{ matrix.deployment }}
${ROLE_INPUTS}
      # A build of ${a.branch} records its image as promotable (the bootstrap's ProvenanceRecorderRoleArn).
      recorder-roles: \${{ vars.MODEL_DEPLOY_RECORDER_ROLES }}
      protected-refs: refs/heads/${a.branch}
`;
}

function promoteWorkflow(a: InitAnswers, source: string, targets: string[]): string {
  return `# Promotes what ${source} serves to ${targets.join(', then ')}, one after the other. Each target job runs in
# its GitHub environment, so that environment's required reviewers approve it first.
name: model promote
on:
  workflow_dispatch:
    inputs:
      deployment: { type: string, required: true }
permissions: {}
jobs:
  promote:
    permissions:
      contents: read
      id-token: write
      deployments: write
    uses: ${uses(a, 'promote.yml')}
    with:
      deployment: \${{ inputs.deployment }}
      source-environment: ${source}
      targets: '${JSON.stringify(targets)}'
      protected-refs: refs/heads/${a.branch}
${ROLE_INPUTS}
`;
}

function rotateWorkflow(a: InitAnswers, environment: string, deployment: string): string {
  return `# The API key of ${deployment} in ${environment}. Weekly: a new key. Hourly: refresh only (retires the
# previous key when its grace period is over).
name: model rotate key
on:
  schedule: [{ cron: '17 3 * * 1' }, { cron: '17 * * * *' }]
  workflow_dispatch:
permissions: {}
jobs:
  rotate:
    permissions:
      contents: read
      id-token: write
    uses: ${uses(a, 'rotate-key.yml')}
    with:
      environment: ${environment}
      deployment: ${deployment}
      refresh-only: \${{ github.event.schedule == '17 * * * *' }}
${ROLE_INPUTS}
`;
}

function destroyWorkflow(a: InitAnswers, environments: string[]): string {
  return `# Deletes one deployment's stack in one environment. confirm must repeat the stack name,
# PROJECT-DEPLOYMENT-ENVIRONMENT (${a.project}-${a.deployment}-${environments[0]} for ${a.deployment} in ${environments[0]}).
name: model destroy
on:
  workflow_dispatch:
    inputs:
      environment: { type: choice, options: ${list(environments)}, required: true }
      deployment: { type: string, required: true }
      confirm: { type: string, required: true, description: 'The stack name: PROJECT-DEPLOYMENT-ENVIRONMENT' }
permissions: {}
jobs:
  destroy:
    permissions:
      contents: read
      id-token: write
    uses: ${uses(a, 'destroy.yml')}
    with:
      environment: \${{ inputs.environment }}
      deployment: \${{ inputs.deployment }}
      confirm: \${{ inputs.confirm }}
${ROLE_INPUTS}
`;
}

export function initFiles(a: InitAnswers): InitFile[] {
  const environments = a.accounts.map(([env]) => env);
  const [first = 'dev', ...later] = environments;
  const files: InitFile[] = [
    { path: 'model-deploy.yml', content: specText(a) },
    { path: '.github/workflows/model-cost.yml', content: costWorkflow(a) },
    { path: '.github/workflows/model-cost-comment.yml', content: costCommentWorkflow(a) },
    { path: '.github/workflows/model-deploy.yml', content: deployWorkflow(a, [a.deployment], first) },
  ];
  if (later.length) files.push({ path: '.github/workflows/model-promote.yml', content: promoteWorkflow(a, first, later) });
  // API keys are what ec2 and ecs endpoints check; SageMaker endpoints are called with IAM (SigV4).
  if (a.target === 'ec2' || a.target === 'ecs') files.push({ path: '.github/workflows/model-rotate-key.yml', content: rotateWorkflow(a, environments[environments.length - 1] ?? first, a.deployment) });
  files.push({ path: '.github/workflows/model-destroy.yml', content: destroyWorkflow(a, environments) });
  return files;
}
