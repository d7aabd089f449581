import { arnAccount, arnPartition, formatArn, isAccountId, isRoleArn, kmsKeyRef, parseArn, parseAssumedRoleArn, parseRoleArn } from '../../../src/core/arn';

describe('ARNs', () => {
  it('splits an ARN into its parts, keeping colons and slashes of the resource', () => {
    expect(parseArn('arn:aws:sagemaker:us-east-1:111111111111:endpoint/my-ep')).toEqual({
      partition: 'aws', service: 'sagemaker', region: 'us-east-1', account: '111111111111', resource: 'endpoint/my-ep',
    });
    expect(parseArn('arn:aws-cn:secretsmanager:cn-north-1:222222222222:secret:a/b:c-AbCdEf')?.resource).toBe('secret:a/b:c-AbCdEf');
    expect(parseArn('arn:aws:s3:::bucket/key')).toMatchObject({ service: 's3', region: '', account: '', resource: 'bucket/key' });
  });

  it('is undefined for ids, aliases and names', () => {
    for (const v of ['alias/foo', '1234abcd-12ab-34cd-56ef-1234567890ab', 'arn:aws', '', undefined]) expect(parseArn(v)).toBeUndefined();
    expect(arnPartition('alias/x')).toBeUndefined();
    expect(arnAccount('arn:aws:s3:::bucket')).toBeUndefined();
  });

  it('reads partition and account', () => {
    expect(arnPartition('arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/k')).toBe('aws-us-gov');
    expect(arnAccount('arn:aws:kms:us-east-1:111111111111:key/k')).toBe('111111111111');
  });

  it('knows role and assumed-role ARNs, and nothing else as either', () => {
    expect(parseRoleArn('arn:aws:iam::111111111111:role/path/to/Deploy')?.roleName).toBe('Deploy');
    expect(parseRoleArn('arn:aws:iam::111111111111:user/Deploy')).toBeUndefined();
    expect(parseRoleArn('arn:aws:sts::111111111111:assumed-role/Deploy/s')).toBeUndefined();
    expect(parseAssumedRoleArn('arn:aws-cn:sts::111111111111:assumed-role/Deploy/gh-run')).toMatchObject({ partition: 'aws-cn', account: '111111111111', roleName: 'Deploy', session: 'gh-run' });
    expect(parseAssumedRoleArn('arn:aws:iam::111111111111:role/Deploy')).toBeUndefined();
  });

  it('formats what it parses', () => {
    const arn = 'arn:aws:bedrock:us-west-2:111111111111:custom-model/abc/def';
    expect(formatArn(parseArn(arn)!)).toBe(arn);
  });
});

describe('kmsKeyRef: a KMS key reference of the spec', () => {
  it('keeps a key ARN and reads its region', () => {
    expect(kmsKeyRef('arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'us-east-1', '222222222222')).toEqual({
      keyArn: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      region: 'eu-west-1',
    });
  });
  it('reads an alias, by ARN or by name', () => {
    expect(kmsKeyRef('arn:aws-cn:kms:cn-north-1:111111111111:alias/models', 'cn-northwest-1', '111111111111')).toEqual({ alias: 'alias/models', region: 'cn-north-1' });
    expect(kmsKeyRef('alias/models', 'us-east-1', '111111111111')).toEqual({ alias: 'alias/models', region: 'us-east-1' });
  });
  it('makes a key id the ARN of that key in the region, account and partition', () => {
    expect(kmsKeyRef('mrk-0123456789abcdef0123456789abcdef', 'us-gov-west-1', '111111111111')).toEqual({
      keyArn: 'arn:aws-us-gov:kms:us-gov-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef',
      region: 'us-gov-west-1',
    });
  });
});

describe('isRoleArn', () => {
  it.each([
    ['arn:aws:iam::111111111111:role/model-deploy-dev', true],
    ['arn:aws-cn:iam::111111111111:role/path/to/name', true],
    ['arn:aws:iam::111111111111:user/me', false],
    ['arn:aws-iso:iam::111111111111:role/elsewhere', false],
    ['arn:aws:sts::111111111111:assumed-role/r/s', false],
    ['model-deploy-dev', false],
  ])('%s -> %s', (value, expected) => {
    expect(isRoleArn(value)).toBe(expected);
  });
});

describe('isAccountId', () => {
  it('is 12 digits', () => {
    expect(['111111111111', '11111111111', '1111111111111', 'aws', ''].map(isAccountId)).toEqual([true, false, false, false, false]);
  });
});
