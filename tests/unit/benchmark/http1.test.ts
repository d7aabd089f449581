/**
 * The benchmark's HTTP/1.1 client (src/benchmark/http1.ts) against RFC 9112's message framing: responses cut
 * into reads at every byte (a stand-in socket whose reads the test decides), chunk extensions and trailers,
 * Content-Length, both framings at once, a close-delimited body; and on real loopback sockets, keep-alive reuse
 * and a server that closes pooled connections.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { Duplex } from 'stream';
import { Exchange, Http1Pool } from '../../../src/benchmark/http1';

/** A socket whose reads are the test's: `read(bytes)` is one 'data' event; what the client writes is kept. */
class StandInSocket extends Duplex {
  written = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.written += chunk.toString();
    cb();
  }
  override _read(): void {}
  setNoDelay(): this {
    return this;
  }
}

interface Heard {
  status?: number;
  body: Buffer[];
  ended: boolean;
  error?: Error;
}

function listener(): { heard: Heard; exchange: Exchange; done: Promise<Heard> } {
  const heard: Heard = { body: [], ended: false };
  let settle!: () => void;
  const done = new Promise<Heard>((resolve) => {
    settle = () => resolve(heard);
  });
  return {
    heard,
    done,
    exchange: {
      head: (s) => {
        heard.status = s;
      },
      // Copied: the range is of a buffer the client reuses.
      body: (buf, from, to) => heard.body.push(Buffer.from(buf.subarray(from, to))),
      end: () => {
        heard.ended = true;
        settle();
      },
      fail: (err) => {
        heard.error = err;
        settle();
      },
    },
  };
}

/** One request on a stand-in socket; the response is handed over in the given reads. */
function exchangeOver(reads: Buffer[]): { heard: Heard; pool: Http1Pool; sockets: StandInSocket[] } {
  const sockets: StandInSocket[] = [];
  const pool = new Http1Pool(new URL('http://model.test/v1/chat/completions'), {
    socket: () => {
      const s = new StandInSocket();
      sockets.push(s);
      return s as unknown as net.Socket;
    },
  });
  const { heard, exchange } = listener();
  pool.request('POST /v1/chat/completions HTTP/1.1\r\nhost: model.test\r\ncontent-length: 0\r\n\r\n', exchange, () => undefined);
  for (const r of reads) sockets[0]!.emit('data', r);
  return { heard, pool, sockets };
}

/** The response cut into two reads at every byte, and into one read per byte. */
function everyCut(response: string): Buffer[][] {
  const bytes = Buffer.from(response, 'latin1');
  const cuts: Buffer[][] = [];
  for (let i = 1; i < bytes.length; i++) cuts.push([bytes.subarray(0, i), bytes.subarray(i)]);
  cuts.push([...bytes].map((b) => Buffer.from([b])));
  return cuts;
}

const SSE = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: [DONE]\n\n';

describe('the HTTP/1.1 client reads RFC 9112 framing cut anywhere', () => {
  it('decodes a chunked body with chunk extensions and a trailer section, cut at every byte', () => {
    const half = SSE.length >> 1;
    const response =
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
      `${half.toString(16)};name=value;q="a;b"\r\n${SSE.slice(0, half)}\r\n` +
      `${(SSE.length - half).toString(16).toUpperCase()} ; ext\r\n${SSE.slice(half)}\r\n` +
      '0;last\r\nx-trailer: 1\r\n\r\n';
    for (const reads of everyCut(response)) {
      const { heard, pool } = exchangeOver(reads);
      expect({ cut: reads[0]!.length, body: Buffer.concat(heard.body).toString(), ended: heard.ended, error: heard.error?.message }).toEqual({
        cut: reads[0]!.length,
        body: SSE,
        ended: true,
        error: undefined,
      });
      expect(heard.status).toBe(200);
      // Complete and nothing after it: kept for the next request.
      expect(pool.size).toBe(1);
    }
  });

  it('reads a Content-Length body cut at every byte, and skips an interim 100 Continue', () => {
    const response = `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: ${SSE.length}\r\n\r\n${SSE}`;
    for (const reads of everyCut(response)) {
      const { heard, pool } = exchangeOver(reads);
      expect({ cut: reads[0]!.length, body: Buffer.concat(heard.body).toString(), ended: heard.ended }).toEqual({ cut: reads[0]!.length, body: SSE, ended: true });
      expect(pool.size).toBe(1);
    }
  });

  it('sends the next request on the same connection after a full body', () => {
    const { heard, pool, sockets } = exchangeOver([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')]);
    expect(heard.ended).toBe(true);
    const next = listener();
    pool.request('GET / HTTP/1.1\r\nhost: model.test\r\n\r\n', next.exchange, () => undefined);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.written.match(/HTTP\/1\.1\r\n/g)).toHaveLength(2);
  });

  it('does not reuse a connection after Transfer-Encoding with Content-Length, Connection: close, or bytes past the body', () => {
    for (const response of [
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok',
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n',
      'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok',
    ]) {
      const { heard, pool } = exchangeOver([Buffer.from(response)]);
      expect({ response, body: Buffer.concat(heard.body).toString(), ended: heard.ended, open: pool.size }).toEqual({ response, body: 'ok', ended: true, open: 0 });
    }
  });

  it('reads a body without a length to the connection close', () => {
    const { heard, sockets } = exchangeOver([Buffer.from('HTTP/1.1 200 OK\r\n\r\nall of it')]);
    expect(heard.ended).toBe(false);
    sockets[0]!.push(null);
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      expect(Buffer.concat(heard.body).toString()).toBe('all of it');
      expect(heard.ended).toBe(true);
    });
  });

  it('fails on broken framing, saying what is wrong', () => {
    for (const [response, message] of [
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', /chunk-size line with byte 0x7a/],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokX', /chunk data not followed by CRLF/],
      ['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r2\r\n', /CR not followed by LF/],
      ['HTTP/1.1 200 OK\r\ncontent-length: 2, 3\r\n\r\nok', /invalid Content-Length/],
      ['SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP\/1.x status line/],
    ] as const) {
      const { heard, pool } = exchangeOver([Buffer.from(response)]);
      expect({ response, error: heard.error?.message }).toEqual({ response, error: expect.stringMatching(message) });
      expect(pool.size).toBe(0);
    }
  });
});

describe('the HTTP/1.1 client on loopback sockets', () => {
  /** A raw server: answers each request on a connection with `answer(connection's request count)`. */
  async function rawServer(answer: (socket: net.Socket, n: number) => void): Promise<{ port: number; connections: () => number; server: net.Server; sockets: net.Socket[] }> {
    let connections = 0;
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      connections++;
      sockets.push(socket);
      let n = 0;
      let seen = '';
      socket.on('data', (d) => {
        seen += d.toString();
        // Each request here has no body: one ends at its empty line.
        while (seen.includes('\r\n\r\n')) {
          seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
          answer(socket, ++n);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as net.AddressInfo).port, connections: () => connections, server, sockets };
  }

  const get = (pool: Http1Pool) => {
    const l = listener();
    pool.request('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n', l.exchange, () => undefined);
    return l.done;
  };

  it('keeps one connection for requests in turn', async () => {
    const s = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'));
    const pool = new Http1Pool(new URL(`http://127.0.0.1:${s.port}/`));
    try {
      for (let i = 0; i < 3; i++) expect(Buffer.concat((await get(pool)).body).toString()).toBe('ok');
      expect(s.connections()).toBe(1);
    } finally {
      pool.close();
      s.server.close();
      for (const socket of s.sockets) socket.destroy();
    }
  });

  it('takes a new connection when the server closed the pooled one, and reports a server that refuses new ones', async () => {
    // The second request on a connection is never answered: the server closes it as it arrives.
    const s = await rawServer((socket, n) => (n === 1 ? socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok') : socket.destroy()));
    const pool = new Http1Pool(new URL(`http://127.0.0.1:${s.port}/`));
    try {
      expect((await get(pool)).ended).toBe(true);
      const second = await get(pool);
      expect({ ended: second.ended, error: second.error?.message }).toEqual({ ended: true, error: undefined });
      expect(s.connections()).toBe(2);
      // The server stops listening and closes what it has: the pooled connection must not hide that.
      s.server.close();
      for (const socket of s.sockets) socket.destroy();
      const third = await get(pool);
      expect(third.error?.message).toMatch(/ECONNREFUSED/);
    } finally {
      pool.close();
    }
  });
});

describe('the OpenAI client on its HTTP/1.1 connections', () => {
  const stream = (socket: net.Socket) =>
    socket.write(
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n' +
        ['data: {"choices":[{"delta":{"content":"a"}}]}\n\n', 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1}}\n\n', 'data: [DONE]\n\n'].map((e) => `${e.length.toString(16)}\r\n${e}\r\n`).join('') +
        '0\r\n\r\n',
    );
  const spec = { index: 0, prompt: 'hi', promptTokens: 1, maxTokens: 1 };

  it('sends a request again on a new connection when the server closes the pooled one as it arrives', async () => {
    const { openAiClient } = await import('../../../src/benchmark/client-openai');
    let connections = 0;
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      connections++;
      sockets.push(socket);
      let requests = 0;
      socket.on('error', () => undefined);
      socket.on('data', (d) => {
        // A request's body ends the bytes it sends; the second on a connection is not answered.
        if (!d.toString().includes('"messages"')) return;
        if (++requests === 1) stream(socket);
        else socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = openAiClient({ baseUrl: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, model: 'm' });
    try {
      const signal = new AbortController().signal;
      const first = await client.send(spec, signal);
      const second = await client.send({ ...spec, index: 1 }, signal);
      expect([first.success, second.success, second.error]).toEqual([true, true, undefined]);
      expect(connections).toBe(2);
    } finally {
      await client.close?.();
      server.close();
      for (const s of sockets) s.destroy();
    }
  });

  it('checks the certificate and its host name over HTTPS, as node:https does', async () => {
    const { openAiClient } = await import('../../../src/benchmark/client-openai');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'http1-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
    const key = fs.readFileSync(path.join(dir, 'key.pem'));
    const cert = fs.readFileSync(path.join(dir, 'cert.pem'));
    const server = tls.createServer({ key, cert }, (socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (d) => {
        if (d.toString().includes('"messages"')) stream(socket);
      });
    });
    // Every interface: localhost may be ::1 or 127.0.0.1.
    await new Promise<void>((resolve) => server.listen(0, resolve));
    const port = (server.address() as net.AddressInfo).port;
    const signal = new AbortController().signal;
    const send = async (baseUrl: string, ca?: Buffer) => {
      const client = openAiClient({ baseUrl, model: 'm', ...(ca ? { tls: { ca } } : {}) });
      try {
        return await client.send(spec, signal);
      } finally {
        await client.close?.();
      }
    };
    try {
      // The certificate names localhost: trusted there, refused for another name and when its CA is not given.
      expect(await send(`https://localhost:${port}`, cert)).toMatchObject({ success: true, outputTokens: 1 });
      expect((await send(`https://127.0.0.1:${port}`, cert)).error).toMatch(/does not match certificate's altnames/);
      expect((await send(`https://localhost:${port}`)).error).toMatch(/self[- ]signed/);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
