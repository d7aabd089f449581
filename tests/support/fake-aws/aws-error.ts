/**
 * An error of a fake AWS service, shaped as the SDK raises the real one: `name` is the service's error
 * code (S3's `NoSuchKey`, ECR's `RepositoryNotFoundException`, Secrets Manager's
 * `ResourceNotFoundException`), `message` its message, `$metadata.httpStatusCode` the HTTP status
 * (400 unless the service says otherwise) and `$fault` client or server. Unit tests throw it through
 * aws-sdk-client-mock as it is; the loopback fakes turn it into the wire error of the service's protocol.
 */
export class AwsError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $fault: 'client' | 'server';

  constructor(name: string, message: string, readonly status = 400) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status >= 500 ? 'server' : 'client';
  }

  /** The awsJson `__type` (the error code). */
  get type(): string {
    return this.name;
  }
}
