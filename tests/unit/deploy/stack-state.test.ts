import { wantsTerminationProtection } from '../../../src/config/production';
import { assessStack, isEmptyChangeSet } from '../../../src/deploy/stack-state';
import { DeployError } from '../../../src/core/errors';

const stack = (StackStatus: string) => ({ StackName: 's', StackId: 'arn:s', StackStatus, CreationTime: new Date() }) as never;

function refusal(status: string): DeployError {
  try {
    assessStack(stack(status), 'acme-qwen-prod', 'eu-west-1');
  } catch (err) {
    return err as DeployError;
  }
  throw new Error(`${status} was accepted`);
}

describe('assessStack', () => {
  it('creates a missing stack, recreates a ROLLBACK_COMPLETE one, updates a settled one', () => {
    expect(assessStack(undefined, 's', 'us-east-1')).toEqual({ changeSetType: 'CREATE', deleteFirst: false });
    expect(assessStack(stack('ROLLBACK_COMPLETE'), 's', 'us-east-1')).toMatchObject({ changeSetType: 'CREATE', deleteFirst: true });
    expect(assessStack(stack('REVIEW_IN_PROGRESS'), 's', 'us-east-1')).toMatchObject({ changeSetType: 'CREATE', deleteFirst: false });
    for (const s of ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE']) {
      expect(assessStack(stack(s), 's', 'us-east-1')).toMatchObject({ changeSetType: 'UPDATE', deleteFirst: false });
    }
  });

  it('refuses UPDATE_ROLLBACK_FAILED with the exact continue-update-rollback command', () => {
    const err = refusal('UPDATE_ROLLBACK_FAILED');
    expect(err.describe()).toContain('aws cloudformation continue-update-rollback --stack-name acme-qwen-prod --region eu-west-1');
  });

  it('refuses a stack that is in progress, so two deploys never interleave', () => {
    for (const s of ['UPDATE_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS']) {
      const err = refusal(s);
      expect(err.title).toBe('Stack busy');
      expect(err.message).toContain(s);
    }
    expect(refusal('UPDATE_IN_PROGRESS').describe()).toContain('aws cloudformation cancel-update-stack --stack-name acme-qwen-prod --region eu-west-1');
  });

  it('refuses ROLLBACK_FAILED and DELETE_FAILED with the delete command', () => {
    expect(refusal('ROLLBACK_FAILED').describe()).toContain('aws cloudformation delete-stack --stack-name acme-qwen-prod');
    expect(refusal('DELETE_FAILED').title).toBe('Stack in DELETE_FAILED');
  });
});

describe('empty change sets and protection', () => {
  it('recognises both wordings CloudFormation uses for an empty change set', () => {
    expect(isEmptyChangeSet('FAILED', "The submitted information didn't contain changes. Submit different information to create a change set.")).toBe(true);
    expect(isEmptyChangeSet('FAILED', 'No updates are to be performed.')).toBe(true);
    expect(isEmptyChangeSet('FAILED', 'Template format error: Unresolved resource dependencies')).toBe(false);
    expect(isEmptyChangeSet('CREATE_COMPLETE', undefined)).toBe(false);
  });

  it('protects prod by default and honours the spec either way', () => {
    expect(wantsTerminationProtection('prod', undefined)).toBe(true);
    expect(wantsTerminationProtection('dev', undefined)).toBe(false);
    expect(wantsTerminationProtection('prod', { terminationProtection: false })).toBe(false);
    expect(wantsTerminationProtection('staging', { terminationProtection: true })).toBe(true);
  });
});
