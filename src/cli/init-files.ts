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

/** One caller workflow: a job that calls one of our reusable workflows, and nothing else. */
interface Caller {
  /** The comment at the top: what it does and when. */
  about: string;
  name: string;
  /** The lines under `on:`. */
  on: string[];
  job: string;
  /** The lines under the job's `strategy:` (the deploy matrix). */
  strategy?: string[];
  permissions: string[];
  workflow: string;
  with: string[];
}

function callerWorkflow(a: InitAnswers, c: Caller): string {
  return [
    ...c.about.split('\n').map((l) => `# ${l}`),
    `name: ${c.name}`,
    'on:',
    ...c.on.map((l) => `  ${l}`),
    'permissions: {}',
    'jobs:',
    `  ${c.job}:`,
    ...(c.strategy ? ['    strategy:', ...c.strategy.map((l) => `      ${l}`)] : []),
    '    permissions:',
    ...c.permissions.map((p) => `      ${p}`),
    `    uses: ${uses(a, c.workflow)}`,
    '    with:',
    ...c.with.map((w) => `      ${w}`),
    '',
  ].join('\n');
}

/** Every job that assumes a role reads it from here: the one place the ARNs are. */
const ROLE_INPUTS = ['roles: ${{ vars.MODEL_DEPLOY_ROLES }}', 'aws-region: ${{ vars.MODEL_DEPLOY_AWS_REGION }}'];
const DEPLOYS = ['contents: read', 'id-token: write', 'deployments: write'];

const costWorkflow = (a: InitAnswers) => callerWorkflow(a, {
  about: 'The cost of a change to model-deploy.yml, on every pull request: a read-only token, no AWS credentials,\nso it is safe for forks. model-cost-comment.yml posts the result.',
  name: 'model cost', on: ['pull_request:', '  paths: [model-deploy.yml]'], job: 'estimate',
  permissions: ['contents: read'], workflow: 'cost-comment.yml', with: ['max-monthly-increase: 25%'],
});

const costCommentWorkflow = (a: InitAnswers) => callerWorkflow(a, {
  about: 'Posts the estimate of "model cost" on its pull request. workflow_run workflows run only from the\ndefault branch: this file takes effect once it is merged there.',
  name: 'model cost comment', on: ['workflow_run:', '  workflows: [model cost]', '  types: [completed]'], job: 'comment',
  permissions: ['actions: read', 'contents: read', 'pull-requests: write'], workflow: 'cost-comment-post.yml', with: ['max-monthly-increase: 25%'],
});

const deployWorkflow = (a: InitAnswers, deployments: string[], environment: string) => callerWorkflow(a, {
  about: `Builds and deploys the deployments of model-deploy.yml to ${environment} when ${a.branch} changes it.\nA new deployment in the spec: add its name to the matrix.`,
  name: 'model deploy', on: ['push:', `  branches: [${a.branch}]`, '  paths: [model-deploy.yml]', 'workflow_dispatch:'], job: 'deploy',
  strategy: ['fail-fast: false', 'matrix:', `  deployment: ${list(deployments)}`],
  permissions: DEPLOYS, workflow: 'build-and-deploy.yml',
  with: [
    `environment: ${environment}`, 'deployment: ${{ matrix.deployment }}', ...ROLE_INPUTS,
    `# A build of ${a.branch} records its image as promotable (the bootstrap's ProvenanceRecorderRoleArn).`,
    'recorder-roles: ${{ vars.MODEL_DEPLOY_RECORDER_ROLES }}', `protected-refs: refs/heads/${a.branch}`,
  ],
});

const promoteWorkflow = (a: InitAnswers, source: string, targets: string[]) => callerWorkflow(a, {
  about: `Promotes what ${source} serves to ${targets.join(', then ')}, one after the other. Each target job runs in\nits GitHub environment, so that environment's required reviewers approve it first.`,
  name: 'model promote', on: ['workflow_dispatch:', '  inputs:', '    deployment: { type: string, required: true }'], job: 'promote',
  permissions: DEPLOYS, workflow: 'promote.yml',
  with: ['deployment: ${{ inputs.deployment }}', `source-environment: ${source}`, `targets: '${JSON.stringify(targets)}'`, `protected-refs: refs/heads/${a.branch}`, ...ROLE_INPUTS],
});

const rotateWorkflow = (a: InitAnswers, environment: string, deployment: string) => callerWorkflow(a, {
  about: `The API key of ${deployment} in ${environment}. Weekly: a new key. Hourly: refresh only (retires the\nprevious key when its grace period is over).`,
  name: 'model rotate key', on: ["schedule: [{ cron: '17 3 * * 1' }, { cron: '17 * * * *' }]", 'workflow_dispatch:'], job: 'rotate',
  permissions: ['contents: read', 'id-token: write'], workflow: 'rotate-key.yml',
  with: [`environment: ${environment}`, `deployment: ${deployment}`, "refresh-only: ${{ github.event.schedule == '17 * * * *' }}", ...ROLE_INPUTS],
});

const destroyWorkflow = (a: InitAnswers, environments: string[]) => callerWorkflow(a, {
  about: `Deletes one deployment's stack in one environment. confirm must repeat the stack name,\nPROJECT-DEPLOYMENT-ENVIRONMENT (${a.project}-${a.deployment}-${environments[0]} for ${a.deployment} in ${environments[0]}).`,
  name: 'model destroy',
  on: ['workflow_dispatch:', '  inputs:', `    environment: { type: choice, options: ${list(environments)}, required: true }`, '    deployment: { type: string, required: true }',
    "    confirm: { type: string, required: true, description: 'The stack name: PROJECT-DEPLOYMENT-ENVIRONMENT' }"],
  job: 'destroy', permissions: ['contents: read', 'id-token: write'], workflow: 'destroy.yml',
  with: ['environment: ${{ inputs.environment }}', 'deployment: ${{ inputs.deployment }}', 'confirm: ${{ inputs.confirm }}', ...ROLE_INPUTS],
});

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
