/**
 * The pure parts of `model-deploy bootstrap`: the template's parameters checked as CloudFormation would
 * (before any call), an update keeping the values it is not given, and the GitHub settings from the outputs.
 */
import { githubSetup } from '../../../src/bootstrap/github-setup';
import { bootstrapParameters, bootstrapStackName, loadBootstrapTemplate } from '../../../src/bootstrap/template';
import { DeployError } from '../../../src/core/errors';

const template = loadBootstrapTemplate();
const given = { Repository: 'acme/models', Project: 'acme-llm', Environment: 'dev' };
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DeployError);
    return `${(err as Error).message}\n${(err as DeployError).hint ?? ''}`;
  }
  throw new Error('no error');
};

describe('bootstrap parameters', () => {
  it('the stack is one per environment, and the template is over the inline limit (it goes through S3)', () => {
    expect(bootstrapStackName('dev')).toBe('model-deploy-bootstrap-dev');
    expect(Buffer.byteLength(template.body)).toBeGreaterThan(51_200);
  });

  it('sends the given values', () => {
    expect(bootstrapParameters(template, given)).toEqual([
      { ParameterKey: 'Repository', ParameterValue: 'acme/models' },
      { ParameterKey: 'Project', ParameterValue: 'acme-llm' },
      { ParameterKey: 'Environment', ParameterValue: 'dev' },
    ]);
  });

  it('an update keeps the current values it is not given, and drops parameters the template no longer has', () => {
    const params = bootstrapParameters(template, given, { CreateArtifactBucket: 'true', Environment: 'old', Gone: 'x' });
    expect(Object.fromEntries(params.map((p) => [p.ParameterKey, p.ParameterValue]))).toEqual({ ...given, CreateArtifactBucket: 'true' });
  });

  it('refuses, all at once, an unknown name, a value outside AllowedValues or AllowedPattern, and a missing required one', () => {
    const text = errorOf(() => bootstrapParameters(template, { Repository: 'not a repo', Environment: 'dev', CreatePromotionRole: 'yes', ProtectedRef: 'x' }));
    expect(text).toContain('the bootstrap template has no parameter ProtectedRef');
    expect(text).toContain('Did you mean "ProtectedRefs"?');
    expect(text).toContain('CreatePromotionRole is "yes", which the template does not allow');
    expect(text).toContain('Repository is "not a repo", which does not match');
    expect(text).toContain('the bootstrap needs Project');
  });
});

describe('what to set in GitHub', () => {
  const outputs = {
    RoleArn: 'arn:aws:iam::111111111111:role/model-deploy-dev',
    ProvenanceRecorderRoleArn: 'arn:aws:iam::111111111111:role/acme-llm.dev.provenance-recorder',
    OidcProviderArn: 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
  };

  it('the environment with its branch policy, the variables as gh commands, the branch rule', () => {
    const text = githubSetup({ repository: 'acme/models', environment: 'dev', region: 'eu-west-1', outputs }).join('\n');
    expect(text).toContain('gh api -X PUT repos/acme/models/environments/dev --input -');
    expect(text).toContain('{"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}}');
    expect(text).toContain('gh api -X POST repos/acme/models/environments/dev/deployment-branch-policies -f name=main -f type=branch');
    expect(text).toContain(`gh variable set MODEL_DEPLOY_ROLES --repo acme/models --body '{"dev":"${outputs.RoleArn}"}'`);
    expect(text).toContain(`gh variable set MODEL_DEPLOY_RECORDER_ROLES --repo acme/models --body '{"dev":"${outputs.ProvenanceRecorderRoleArn}"}'`);
    expect(text).toContain('gh variable set MODEL_DEPLOY_AWS_REGION --repo acme/models --body eu-west-1');
    expect(text).toContain('gh api -X PUT repos/acme/models/branches/main/protection');
    expect(text).toContain(`--parameter ExistingOidcProviderArn=${outputs.OidcProviderArn}`);
    expect(text).not.toContain('reviewers');
  });

  it('prod gets required reviewers and no self-review', () => {
    const text = githubSetup({ repository: 'acme/models', environment: 'prod', region: 'us-east-1', outputs: { RoleArn: 'arn:aws:iam::333333333333:role/model-deploy-prod' } }).join('\n');
    expect(text).toContain('"prevent_self_review":true,"reviewers":[{"type":"User","id":YOUR_USER_ID}]');
    expect(text).not.toContain('MODEL_DEPLOY_RECORDER_ROLES');
  });
});
