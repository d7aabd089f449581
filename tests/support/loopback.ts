/**
 * A loopback HTTP server standing in for AWS (or GitHub) in process tests. Every request is
 * recorded with what identifies the API call, whatever the protocol:
 *  - awsJson (CodeBuild, ECR, Secrets Manager, ...): the X-Amz-Target header, "CodeBuild_20161006.StartBuild";
 *  - awsQuery (CloudFormation, STS): the Action form field;
 *  - REST (S3, SageMaker runtime, GitHub): method and path.
 * The handler returns a reply; unhandled calls get a 400 naming the call, so a test sees what it missed.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** "CodeBuild_20161006.StartBuild", "DescribeStacks", or "GET /repos/...". */
  call: string;
  /** Short operation name: "StartBuild", "DescribeStacks". */
  operation: string;
  /** Parsed JSON body (awsJson, restJson) or form fields (awsQuery). */
  params: Record<string, unknown>;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
}

export type Handler = (req: RecordedRequest) => Reply | Promise<Reply> | undefined;

export interface Loopback {
  url: string;
  requests: RecordedRequest[];
  calls(): string[];
  close(): Promise<void>;
}

function parseBody(headers: http.IncomingHttpHeaders, body: string): { params: Record<string, unknown>; action?: string } {
  const type = String(headers['content-type'] ?? '');
  if (type.includes('x-www-form-urlencoded')) {
    const params = Object.fromEntries(new URLSearchParams(body));
    return { params, action: params.Action as string | undefined };
  }
  if (type.includes('json') && body) {
    try {
      return { params: JSON.parse(body) as Record<string, unknown> };
    } catch {
      return { params: {} };
    }
  }
  return { params: {} };
}

export async function startLoopback(handler: Handler): Promise<Loopback> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { params, action } = parseBody(req.headers, body);
      const target = req.headers['x-amz-target'] as string | undefined;
      const call = target ?? action ?? `${req.method} ${req.url}`;
      const operation = target ? target.split('.').pop()! : action ?? call;
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, call, operation, params };
      requests.push(recorded);
      let reply: Reply | undefined;
      try {
        reply = await handler(recorded);
      } catch (err) {
        reply = { status: 500, body: { message: String(err) } };
      }
      if (!reply) reply = { status: 400, body: { __type: 'UnhandledInTest', message: `loopback: no reply for ${call}` } };
      const isBuffer = Buffer.isBuffer(reply.body);
      const text = typeof reply.body === 'string' || isBuffer ? reply.body : JSON.stringify(reply.body ?? {});
      const headers: Record<string, string> = { 'content-type': typeof reply.body === 'string' && reply.body.startsWith('<') ? 'text/xml' : 'application/json', ...reply.headers };
      res.writeHead(reply.status ?? 200, headers);
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    calls: () => requests.map((r) => r.operation),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** An awsQuery (XML) success body: <OpResponse><OpResult>inner</OpResult></OpResponse>. */
export function queryResponse(operation: string, innerXml: string, namespace = 'http://cloudformation.amazonaws.com/doc/2010-05-15/'): Reply {
  return {
    headers: { 'content-type': 'text/xml' },
    body: `<${operation}Response xmlns="${namespace}"><${operation}Result>${innerXml}</${operation}Result><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></${operation}Response>`,
  };
}

/** An awsQuery error body. */
export function queryError(code: string, message: string, status = 400): Reply {
  return {
    status,
    headers: { 'content-type': 'text/xml' },
    body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`,
  };
}

/** An awsJson error body. */
export function jsonError(type: string, message: string, status = 400): Reply {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type }, body: { __type: type, message } };
}
