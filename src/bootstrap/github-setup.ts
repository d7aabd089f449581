/**
 * What to set in GitHub once an environment's bootstrap stands, from its outputs: the environment and its
 * deployment branches, the repository variables the caller workflows read (MODEL_DEPLOY_ROLES,
 * MODEL_DEPLOY_RECORDER_ROLES, MODEL_DEPLOY_AWS_REGION), and the branch rule, each as a `gh` command.
 */
import { isProduction } from '../config/production';

export interface GitHubSetup {
  repository: string;
  environment: string;
  region: string;
  outputs: Record<string, string>;
  /** The default branch the environments deploy from. */
  branch?: string;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function githubSetup(s: GitHubSetup): string[] {
  const branch = s.branch ?? 'main';
  const repo = s.repository;
  const env = s.environment;
  const role = s.outputs.RoleArn;
  const recorder = s.outputs.ProvenanceRecorderRoleArn;
  const lines = [
    `Set in GitHub (${repo}):`,
    '',
    `1. The environment "${env}", deployable from ${branch} only${isProduction(env) ? ', with required reviewers' : ''}:`,
    `   gh api -X PUT repos/${repo}/environments/${env} --input - <<'JSON'`,
    `   {"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}${isProduction(env) ? ',"prevent_self_review":true,"reviewers":[{"type":"User","id":YOUR_USER_ID}]' : ''}}`,
    '   JSON',
    `   gh api -X POST repos/${repo}/environments/${env}/deployment-branch-policies -f name=${branch} -f type=branch`,
    '',
    '2. Repository variables (one JSON object per variable, one entry per environment: add this entry to the',
    '   ones other environments already have):',
  ];
  if (role) lines.push(`   gh variable set MODEL_DEPLOY_ROLES --repo ${repo} --body ${quote(JSON.stringify({ [env]: role }))}`);
  else lines.push('   MODEL_DEPLOY_ROLES: the stack has no RoleArn output yet (see its outputs).');
  if (recorder) lines.push(`   gh variable set MODEL_DEPLOY_RECORDER_ROLES --repo ${repo} --body ${quote(JSON.stringify({ [env]: recorder }))}`);
  lines.push(`   gh variable set MODEL_DEPLOY_AWS_REGION --repo ${repo} --body ${s.region}`);
  lines.push(
    '',
    `3. Protect ${branch} (its builds are the ones recorded as promotable): required reviews, no force pushes:`,
    `   gh api -X PUT repos/${repo}/branches/${branch}/protection --input - <<'JSON'`,
    '   {"required_status_checks":null,"enforce_admins":true,"required_pull_request_reviews":{"required_approving_review_count":1},"restrictions":null,"allow_force_pushes":false,"allow_deletions":false}',
    '   JSON',
  );
  if (s.outputs.OidcProviderArn) lines.push('', `Another environment in this account: pass --parameter ExistingOidcProviderArn=${s.outputs.OidcProviderArn} (one OIDC provider per account).`);
  if (s.outputs.PromotionRoleArn) lines.push(`Promotion role of ${env}: ${s.outputs.PromotionRoleArn}.`);
  return lines;
}
