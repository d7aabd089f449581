/** `model-deploy init`: a valid model-deploy.yml and the caller workflows, from questions or flags. */
import * as fs from 'fs';
import * as path from 'path';
import { DeployError, throwIfAny } from '../core/errors';
import { VERSION } from '../core/version';
import { parseSpec } from '../config/load';
import { didYouMean } from '../config/suggest';
import type { TargetKind } from '../config/types';
import { booleanFlag, listFlag, parseFlags } from './flags';
import { defaultInstanceType, deploymentNameOf, InitAnswers, initFiles } from './init-files';
import type { CliIo } from './io';

export const usage = `model-deploy init [--model OWNER/NAME] [--revision SHA] [--engine vllm|tgi|lmi] [--target KIND]
    [--instance-type TYPE] [--regions R1,R2] [--accounts ENV=ACCOUNT,...] [--project NAME] [--deployment NAME]
    [--actions-repository OWNER/model-deploy-actions] [--actions-ref v1|SHA [--actions-version vX.Y.Z]] [--branch main]
    [--certificate-arn ARN --vpc-id ID --subnets A,B --security-groups SG [--public-subnets A,B]] [--dir DIR] [--force]

Writes model-deploy.yml and the GitHub workflows that use it into DIR (default: this folder):
  .github/workflows/model-cost.yml, model-cost-comment.yml   the cost of a pull request, as a comment
  .github/workflows/model-deploy.yml                          build and deploy on the default branch (a matrix over deployments)
  .github/workflows/model-promote.yml                         promotion to the later environments, each behind its approval
  .github/workflows/model-rotate-key.yml                      scheduled API-key rotation (ec2 and ecs)
  .github/workflows/model-destroy.yml                         destroy, by hand
On a terminal it asks for what no flag gives; elsewhere the flags are needed. The role ARNs are not written:
every workflow reads them from the MODEL_DEPLOY_ROLES repository variable (model-deploy bootstrap prints it).
Refuses to overwrite an existing file without --force.

  --model OWNER/NAME        A Hugging Face model id, e.g. Qwen/Qwen2.5-7B-Instruct.
  --revision SHA            The model commit to serve (default main; pin a commit for reproducible builds).
  --engine NAME             vllm (default), tgi or lmi.
  --target KIND             sagemaker-realtime (default), sagemaker-async, ec2 or ecs.
  --instance-type TYPE      Default ml.g5.2xlarge (SageMaker) or g5.2xlarge (ec2, ecs).
  --regions R1,R2           Default us-east-1.
  --accounts ENV=ACCOUNT,.. Environments in promotion order with their 12-digit accounts, e.g.
                            dev=111111111111,prod=333333333333. The first is where the default branch deploys.
  --project NAME            Prefix of every resource (default: this folder's name).
  --deployment NAME         Default: from the model id.
  --actions-repository R    Where model-deploy-actions lives (OWNER/model-deploy-actions).
  --actions-ref REF         The tag or commit SHA the workflows pin (default v1). A SHA is safer: a tag can move.
  --actions-version V       The release a SHA is, written beside it (default: this CLI's, v${VERSION}).
  --branch NAME             The default branch (default main).
  --certificate-arn, --vpc-id, --subnets, --security-groups, --public-subnets
                            ec2 and ecs: the ACM certificate and the VPC the endpoint runs in.
  --dir DIR                 Where to write (default: the current folder).
  --force                   Overwrite existing files.
`;

const FLAGS = [
  'model', 'revision', 'engine', 'target', 'instance-type', 'regions', 'accounts', 'project', 'deployment', 'actions-repository', 'actions-ref', 'actions-version', 'branch',
  'certificate-arn', 'vpc-id', 'subnets', 'security-groups', 'public-subnets', 'dir', 'force',
] as const;
type Flag = (typeof FLAGS)[number];

const ENGINES = ['vllm', 'tgi', 'lmi'] as const;
const TARGETS: TargetKind[] = ['sagemaker-realtime', 'sagemaker-async', 'ec2', 'ecs'];

interface Question {
  flag: Flag;
  prompt: string;
  /** Absent: the answer is required. */
  fallback?: string;
}

/** A flag's value, else the answer on a terminal (the fallback on an empty answer), else the fallback. */
async function answer(flags: Record<string, string>, io: CliIo, q: Question, missing: string[]): Promise<string> {
  const given = flags[q.flag];
  if (given !== undefined) return given;
  if (io.ask) {
    const reply = (await io.ask(`${q.prompt}${q.fallback !== undefined ? ` [${q.fallback}]` : ''}: `)).trim();
    if (reply || q.fallback !== undefined) return reply || q.fallback!;
  } else if (q.fallback !== undefined) {
    return q.fallback;
  }
  missing.push(`--${q.flag} (${q.prompt})`);
  return '';
}

function parseAccounts(text: string): [string, string][] {
  return listFlag(text).map((pair) => {
    const m = /^([a-z0-9_.-]{1,40})=(\d{12})$/.exec(pair);
    if (!m) throw new DeployError(`--accounts: "${pair}" is not ENV=ACCOUNT`, { hint: 'e.g. dev=111111111111,prod=333333333333 (environment names in lower case, 12-digit account ids).' });
    return [m[1]!, m[2]!];
  });
}

function choice<T extends string>(flag: string, value: string, options: readonly T[]): T {
  if ((options as readonly string[]).includes(value)) return value as T;
  throw new DeployError(`--${flag} is "${value}", which is not one of ${options.join(', ')}`, { hint: `${didYouMean(value, options)} One of: ${options.join(', ')}.` });
}

/** The answers, from flags and (on a terminal) questions; every missing answer is reported at once. */
export async function initAnswers(flags: Record<string, string>, io: CliIo, dir: string): Promise<InitAnswers> {
  const missing: string[] = [];
  const ask = (q: Question) => answer(flags, io, q, missing);
  const model = await ask({ flag: 'model', prompt: 'Hugging Face model id (OWNER/NAME)' });
  const revision = await ask({ flag: 'revision', prompt: 'Model revision (a commit SHA pins it)', fallback: 'main' });
  const engine = choice('engine', await ask({ flag: 'engine', prompt: `Engine (${ENGINES.join(', ')})`, fallback: 'vllm' }), ENGINES);
  const target = choice('target', await ask({ flag: 'target', prompt: `Target (${TARGETS.join(', ')})`, fallback: 'sagemaker-realtime' }), TARGETS);
  const instanceType = await ask({ flag: 'instance-type', prompt: 'Instance type', fallback: defaultInstanceType(target) });
  const regions = listFlag(await ask({ flag: 'regions', prompt: 'Regions (comma-separated)', fallback: 'us-east-1' }));
  const accounts = parseAccounts(await ask({ flag: 'accounts', prompt: 'Environments and accounts in promotion order (dev=111111111111,prod=333333333333)' }));
  const folder = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 31).replace(/-+$/, '');
  const project = await ask({ flag: 'project', prompt: 'Project (prefix of every resource)', fallback: folder || undefined });
  const deployment = await ask({ flag: 'deployment', prompt: 'Deployment name', fallback: model ? deploymentNameOf(model) : undefined });
  const actionsRepository = await ask({ flag: 'actions-repository', prompt: 'Repository of model-deploy-actions (OWNER/model-deploy-actions)' });
  const actionsRef = await ask({ flag: 'actions-ref', prompt: 'Its tag or commit SHA to pin', fallback: 'v1' });
  const branch = await ask({ flag: 'branch', prompt: 'Default branch', fallback: 'main' });
  let network: InitAnswers['network'];
  if (target === 'ec2' || target === 'ecs') {
    network = {
      certificateArn: await ask({ flag: 'certificate-arn', prompt: 'ACM certificate ARN (HTTPS)' }),
      vpcId: await ask({ flag: 'vpc-id', prompt: 'VPC id' }),
      subnets: listFlag(await ask({ flag: 'subnets', prompt: 'Subnets of the instances (comma-separated)' })),
      securityGroups: listFlag(await ask({ flag: 'security-groups', prompt: 'Security groups (comma-separated)' })),
      publicSubnets: listFlag(await ask({ flag: 'public-subnets', prompt: 'Public subnets of the load balancer (empty: internal)', fallback: '' })),
    };
  }
  if (missing.length) {
    throw new DeployError(`init needs ${missing.length === 1 ? 'a flag' : 'these flags'} when not run on a terminal: ${missing.join(', ')}`, { title: 'Missing answers', hint: 'Run it on a terminal to be asked, or pass the flags (model-deploy init --help).' });
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(actionsRepository)) {
    throw new DeployError(`--actions-repository is "${actionsRepository}", which is not OWNER/NAME`, { hint: 'e.g. acme-platform/model-deploy-actions' });
  }
  const actionsVersion = flags['actions-version'] ?? `v${VERSION}`;
  return { project, deployment, model, revision, engine, target, instanceType, regions, accounts, actionsRepository, actionsRef, actionsVersion, branch, network };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  const dir = path.resolve(flags.dir ?? '.');
  const force = booleanFlag(flags, 'force');
  const answers = await initAnswers(flags, io, dir);
  const files = initFiles(answers);
  // What it writes must pass validate: checked here, so a bad answer is an error before any file exists.
  const spec = files[0]!;
  parseSpec(spec.content, spec.path, dir);
  const existing = files.filter((f) => fs.existsSync(path.join(dir, f.path)));
  if (existing.length && !force) {
    throwIfAny(existing.map((f) => new DeployError(`${f.path} exists`, { title: 'File exists', hint: 'init writes nothing over an existing file: pass --force to overwrite, or move it away.' })));
  }
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.content);
    io.out.write(`${existing.includes(f) ? 'Overwrote' : 'Wrote'} ${f.path}\n`);
  }
  const [first] = answers.accounts[0] ?? ['dev'];
  io.out.write(
    `\nNext:\n` +
      `  model-deploy validate --config ${path.relative(process.cwd(), path.join(dir, spec.path)) || spec.path}\n` +
      answers.accounts.map(([env]) => `  model-deploy bootstrap --environment ${env} --project ${answers.project} --region ${answers.regions[0]}   (with ${env}'s account credentials)\n`).join('') +
      `  then set the repository variables bootstrap prints, and push to ${answers.branch}: ${first} deploys.\n`,
  );
  return 0;
}
