import { parseS3Location, s3Url } from '../../../src/core/s3-location';

describe('parseS3Location', () => {
  it.each([
    ['s3://my-bucket/models/qwen/model.tar.gz', { bucket: 'my-bucket', key: 'models/qwen/model.tar.gz' }],
    ['s3://my-bucket/prefix/', { bucket: 'my-bucket', key: 'prefix/' }],
    ['s3://my-bucket', { bucket: 'my-bucket', key: '' }],
    ['s3://my-bucket/', { bucket: 'my-bucket', key: '' }],
    ['https://out-bucket.s3.us-east-1.amazonaws.com/async/out/1.out', { bucket: 'out-bucket', key: 'async/out/1.out' }],
    ['https://out-bucket.s3.cn-north-1.amazonaws.com.cn/o/1.out', { bucket: 'out-bucket', key: 'o/1.out' }],
  ])('%s', (url, expected) => {
    expect(parseS3Location(url)).toEqual(expected);
    expect(s3Url(expected)).toBe(url.startsWith('s3://') ? (url === 's3://my-bucket' ? 's3://my-bucket/' : url) : `s3://${expected.bucket}/${expected.key}`);
  });

  it.each(['my-bucket/key', 'S3://Upper/key', 's3://a/key', 'http://bucket.s3.amazonaws.com/k', ''])('refuses %s', (url) => {
    expect(parseS3Location(url)).toBeUndefined();
  });
});
