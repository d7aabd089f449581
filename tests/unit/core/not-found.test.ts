import { DeployError, explainAwsError, isNotFound } from '../../../src/core/errors';

function awsError(name: string, message: string, status?: number): Error {
  return Object.assign(new Error(message), { name, $metadata: status === undefined ? {} : { httpStatusCode: status } });
}

describe('isNotFound', () => {
  it('recognises how each service says "no such thing"', () => {
    expect(isNotFound(awsError('NotFound', '', 404))).toBe(true); // S3 HeadObject/HeadBucket
    expect(isNotFound(awsError('NoSuchKey', 'The specified key does not exist.', 404))).toBe(true);
    expect(isNotFound(awsError('NoSuchBucket', 'x'))).toBe(true);
    expect(isNotFound(awsError('RepositoryNotFoundException', 'x', 400))).toBe(true);
    expect(isNotFound(awsError('ResourceNotFoundException', 'x', 400))).toBe(true);
    expect(isNotFound(awsError('ChangeSetNotFound', 'x', 404))).toBe(true);
    expect(isNotFound(awsError('ValidationError', 'Stack with id s does not exist', 400))).toBe(true);
  });

  it('is false for everything else, including a ValidationError about something else', () => {
    expect(isNotFound(awsError('ValidationError', 'Template format error', 400))).toBe(false);
    expect(isNotFound(awsError('AccessDenied', 'does not exist', 403))).toBe(false);
    expect(isNotFound(awsError('ThrottlingException', 'x', 400))).toBe(false);
    expect(isNotFound(new Error('boom'))).toBe(false);
    expect(isNotFound(undefined)).toBe(false);
  });

  it('looks through explainAwsError to the cause', () => {
    expect(isNotFound(explainAwsError(awsError('NoSuchKey', 'x', 404), 'Reading'))).toBe(true);
    expect(isNotFound(new DeployError('plain'))).toBe(false);
  });
});
