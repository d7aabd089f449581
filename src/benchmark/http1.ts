/**
 * A small HTTP/1.1 client for the benchmark's streams, on net / tls sockets: a keep-alive pool per origin, the
 * request written by hand, the response's status line and fields parsed, its body decoded as it arrives
 * (Content-Length, `Transfer-Encoding: chunked` with extensions and trailers, or to the connection's close)
 * and handed over as byte ranges of the read itself. node:http costs ~800 bytes of allocation a token in its
 * parser and readable-stream machinery (IncomingMessage, a nextTick per chunk on Node 20); here a plain-TCP read
 * lands in one buffer the pool reuses (`onread`), and a plain token line is read in place (stream.ts). The
 * framing follows RFC 9112 (sections 6 and 7): chunk-size lines may carry extensions, trailers are read and
 * dropped, a bare LF is taken as a line end (section 2.2), an obs-fold becomes a space (5.2), Transfer-Encoding
 * overrides Content-Length and then the connection is not reused (6.3).
 *
 * HTTPS: tls.connect with the host as servername (none for an IP address, as node:https does) and Node's own
 * certificate and host-name checks (checkServerIdentity). Proxies: none, as the node:http client this replaces
 * used none (plain agents).
 */
import * as net from 'net';
import * as tls from 'tls';

/** What a request hears of its response. Body ranges are of a buffer reused after the call: copy what you keep. */
export interface Exchange {
  head(status: number): void;
  body(buf: Buffer, from: number, to: number): void;
  /** The response is complete. */
  end(): void;
  fail(err: Error): void;
}

export interface RequestHandle {
  /** Ends the exchange with `err` (its connection is closed: a half-read response cannot be reused). */
  abort(err: Error): void;
}

export interface Http1PoolOptions {
  /** Extra TLS options (tests: a CA). */
  tls?: tls.ConnectionOptions;
  /** Most bytes of a response's status line and fields. */
  maxHeadBytes?: number;
  /** Opens the connection instead of net/tls (tests: a stand-in socket whose reads they cut). */
  socket?: () => net.Socket;
}

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkExt,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  UntilClose,
  Idle,
}

/** Longest chunk-size line extension and trailer section read (node:http's llhttp bounds the same, CVE-2024-22019). */
const MAX_EXTENSION_BYTES = 16 * 1024;

class Http1Error extends Error {}

/** One request in flight on a connection: what to (re)send and whom to tell. */
interface Pending {
  data: string;
  exchange: Exchange;
  onSent: () => void;
  /** Sent once on a reused connection that closed before answering: may be sent again on a new one. */
  retried: boolean;
  conn?: Connection;
  done: boolean;
}

class Connection {
  state = State.Idle;
  pending: Pending | undefined;
  reused = false;
  /** Bytes of this response seen (a reused connection closed before any is not an answer). */
  answered = false;
  private headBuf: Buffer | undefined;
  private remaining = 0;
  private digits = 0;
  private extBytes = 0;
  private lineBytes = 0;
  private keepAlive = true;
  private sawCr = false;
  closed = false;

  constructor(
    readonly pool: Http1Pool,
    readonly socket: net.Socket,
  ) {}

  send(p: Pending): void {
    this.pending = p;
    p.conn = this;
    this.state = State.Head;
    this.answered = false;
    this.headBuf = undefined;
    this.socket.write(p.data, () => p.onSent());
  }

  /** Bytes [from, to) of `buf` read from the socket. */
  read(buf: Buffer, from: number, to: number): void {
    if (to > from) this.answered = true;
    try {
      this.parse(buf, from, to);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private parse(buf: Buffer, pos: number, to: number): void {
    while (pos < to) {
      const p = this.pending;
      if (!p || this.state === State.Idle) {
        // Bytes nobody asked for: the connection cannot be trusted with another request.
        this.pool.discard(this);
        return;
      }
      switch (this.state) {
        case State.Head: {
          pos = this.readHead(buf, pos, to);
          break;
        }
        case State.Length: {
          const n = Math.min(this.remaining, to - pos);
          p.exchange.body(buf, pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.complete(pos, to);
          break;
        }
        case State.UntilClose: {
          p.exchange.body(buf, pos, to);
          pos = to;
          break;
        }
        case State.ChunkSize: {
          const c = buf[pos++]!;
          if (this.sawCr && c !== 10) throw new Http1Error('a CR not followed by LF in a chunk-size line');
          this.sawCr = false;
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > 13) throw new Http1Error('a chunk size of more than 13 hex digits');
            this.remaining = this.remaining * 16 + v;
          } else if (c === 59 /* ; */ || c === 32 || c === 9) {
            if (this.digits === 0) throw new Http1Error('a chunk-size line without a size');
            this.state = State.ChunkExt;
            this.extBytes = 0;
          } else if (c === 13) {
            this.sawCr = true;
            continue;
          } else if (c === 10) {
            this.chunkSizeDone();
          } else throw new Http1Error(`a chunk-size line with byte 0x${c.toString(16)}`);
          break;
        }
        case State.ChunkExt: {
          // Extensions are read and ignored, up to the line's end (a quoted string holds no LF).
          const lf = buf.indexOf(10, pos);
          const end = lf < 0 || lf >= to ? to : lf;
          this.extBytes += end - pos;
          if (this.extBytes > MAX_EXTENSION_BYTES) throw new Http1Error('chunk extensions longer than 16 KiB');
          pos = end;
          if (end < to) {
            pos++;
            this.chunkSizeDone();
          }
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.remaining, to - pos);
          p.exchange.body(buf, pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd: {
          const c = buf[pos++];
          if (c === 10) {
            this.state = State.ChunkSize;
            this.remaining = 0;
            this.digits = 0;
            this.sawCr = false;
          } else if (c !== 13) throw new Http1Error('chunk data not followed by CRLF');
          break;
        }
        case State.Trailer: {
          // Trailer fields are dropped; the section ends at an empty line.
          const c = buf[pos++];
          this.extBytes++;
          if (this.extBytes > MAX_EXTENSION_BYTES) throw new Http1Error('a trailer section longer than 16 KiB');
          if (c === 10) {
            if (this.lineBytes === 0) {
              this.complete(pos, to);
              break;
            }
            this.lineBytes = 0;
          } else if (c !== 13) this.lineBytes++;
          break;
        }
      }
    }
  }

  private chunkSizeDone(): void {
    if (this.digits === 0) throw new Http1Error('a chunk-size line without a size');
    if (this.remaining === 0) {
      this.state = State.Trailer;
      this.lineBytes = 0;
      this.extBytes = 0;
    } else this.state = State.ChunkData;
  }

  /** Reads the status line and fields; returns where the body starts in `buf` (or `to` while the head is incomplete). */
  private readHead(buf: Buffer, pos: number, to: number): number {
    const carried = this.headBuf ? this.headBuf.length : 0;
    const bytes = this.headBuf ? Buffer.concat([this.headBuf, buf.subarray(pos, to)]) : buf;
    const from = carried ? 0 : pos;
    const end = carried ? bytes.length : to;
    const headEnd = findHeadEnd(bytes, from, end);
    if (headEnd < 0) {
      if (end - from > this.pool.maxHeadBytes) throw new Http1Error(`a response head longer than ${this.pool.maxHeadBytes} bytes`);
      this.headBuf = Buffer.from(bytes.subarray(from, end));
      return to;
    }
    this.headBuf = undefined;
    this.startBody(bytes.toString('latin1', from, headEnd));
    return carried ? pos + headEnd - carried : headEnd;
  }

  /** The head's framing: how the body is delimited and whether the connection stays open after it. */
  private startBody(head: string): void {
    const lines = head.split(/\r?\n/);
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!m) throw new Http1Error(`not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const status = Number(m[2]);
    const fields = new Map<string, string>();
    let lastName = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line) continue;
      if (line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) {
        // obs-fold: a continuation of the previous field's value, read as a space (RFC 9112 5.2).
        if (lastName) fields.set(lastName, `${fields.get(lastName)} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1Error(`a field line without a name: ${JSON.stringify(line.slice(0, 80))}`);
      lastName = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      const before = fields.get(lastName);
      fields.set(lastName, before === undefined ? value : `${before}, ${value}`);
    }
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the final one follows.
      if (status === 101) throw new Http1Error('the server switched protocols (101)');
      this.state = State.Head;
      return;
    }
    const tokens = (name: string) => (fields.get(name) ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
    const connection = tokens('connection');
    this.keepAlive = m[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    const te = tokens('transfer-encoding');
    const cl = fields.get('content-length');
    const p = this.pending!;
    p.exchange.head(status);
    if (p.done) return; // the exchange ended in its head callback
    if (status === 204 || status === 304) {
      this.complete(0, 0);
      return;
    }
    if (te.length > 0) {
      // Transfer-Encoding wins over Content-Length; both at once may be smuggling: not reused (RFC 9112 6.3).
      if (cl !== undefined) this.keepAlive = false;
      if (te[te.length - 1] === 'chunked') {
        this.state = State.ChunkSize;
        this.remaining = 0;
        this.digits = 0;
        this.sawCr = false;
      } else {
        this.state = State.UntilClose;
        this.keepAlive = false;
      }
      return;
    }
    if (cl !== undefined) {
      const values = cl.split(',').map((v) => v.trim());
      if (!values.every((v) => /^\d{1,15}$/.test(v) && v === values[0])) throw new Http1Error(`an invalid Content-Length: ${JSON.stringify(cl.slice(0, 40))}`);
      this.remaining = Number(values[0]);
      this.state = State.Length;
      if (this.remaining === 0) this.complete(0, 0);
      return;
    }
    this.state = State.UntilClose;
    this.keepAlive = false;
  }

  /** The response is complete at `pos` of a read that ends at `to`. */
  private complete(pos: number, to: number): void {
    const p = this.pending!;
    this.pending = undefined;
    this.state = State.Idle;
    p.done = true;
    // Bytes past the response: the server answered more than asked; not reused.
    const reusable = this.keepAlive && pos >= to && !this.closed;
    if (reusable) this.pool.release(this);
    else this.pool.discard(this);
    p.exchange.end();
  }

  /** The socket ended (FIN) or closed. */
  onClose(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.pool.forget(this);
    const p = this.pending;
    if (!p || p.done) return;
    this.pending = undefined;
    if (this.state === State.UntilClose && !err) {
      p.done = true;
      p.exchange.end();
      return;
    }
    if (this.reused && !this.answered && !p.retried) {
      // A pooled connection the server closed as the request went out: never answered, so sent again on a new
      // connection (whose own failure, such as a refused connect, is then the request's).
      p.retried = true;
      this.pool.dispatch(p, true);
      return;
    }
    p.done = true;
    p.exchange.fail(err ?? new Error(this.answered ? 'the answer was cut off' : 'the server closed the connection without answering'));
  }

  fail(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    this.state = State.Idle;
    this.pool.discard(this);
    if (p && !p.done) {
      p.done = true;
      p.exchange.fail(err);
    }
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The index just past the empty line that ends a head in [from, to) (CRLF or bare LF line ends), or -1. */
function findHeadEnd(buf: Buffer, from: number, to: number): number {
  let i = from;
  for (;;) {
    const lf = buf.indexOf(10, i);
    if (lf < 0 || lf >= to) return -1;
    const next = buf[lf + 1];
    if (lf + 1 < to && next === 10) return lf + 2;
    if (lf + 2 < to && next === 13 && buf[lf + 2] === 10) return lf + 3;
    i = lf + 1;
  }
}

/** Keep-alive HTTP/1.1 connections to one origin, as many as requests in flight. */
export class Http1Pool {
  readonly maxHeadBytes: number;
  private readonly idle = new Set<Connection>();
  private readonly all = new Set<Connection>();
  /** Plain-TCP reads land here (the reads of one thread never overlap): no buffer per read. */
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private readonly secure: boolean;
  private readonly host: string;
  private readonly port: number;
  private closedPool = false;

  constructor(
    url: URL,
    private readonly options: Http1PoolOptions = {},
  ) {
    this.secure = url.protocol === 'https:';
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port) || (this.secure ? 443 : 80);
    this.maxHeadBytes = options.maxHeadBytes ?? 64 * 1024;
  }

  /** Connections open now (tests: reuse). */
  get size(): number {
    return this.all.size;
  }

  /** Sends `data` (request line, fields and body) and tells `exchange` what comes back. */
  request(data: string, exchange: Exchange, onSent: () => void): RequestHandle {
    const p: Pending = { data, exchange, onSent, retried: false, done: false };
    this.dispatch(p, false);
    return {
      abort: (err: Error) => {
        if (p.done) return;
        p.done = true;
        const conn = p.conn;
        if (conn && conn.pending === p) {
          conn.pending = undefined;
          this.discard(conn);
        }
        exchange.fail(err);
      },
    };
  }

  /** Sends `p` on an idle connection, or a new one (`fresh`: always a new one). */
  dispatch(p: Pending, fresh: boolean): void {
    if (this.closedPool) {
      p.done = true;
      p.exchange.fail(new Error('the client is closed'));
      return;
    }
    let conn: Connection | undefined;
    if (!fresh) {
      for (const c of this.idle) {
        conn = c;
        break;
      }
    }
    if (conn) {
      this.idle.delete(conn);
      conn.reused = true;
    } else conn = this.connect();
    conn.send(p);
  }

  private connect(): Connection {
    let socket: net.Socket;
    if (this.options.socket) {
      socket = this.options.socket();
      socket.on('data', (b: Buffer) => conn.read(b, 0, b.length));
    } else if (this.secure) {
      socket = tls.connect({
        host: this.host,
        port: this.port,
        // SNI carries a host name, never an address; the certificate is checked against the host either way.
        ...(net.isIP(this.host) ? {} : { servername: this.host }),
        ALPNProtocols: ['http/1.1'],
        ...this.options.tls,
      });
      socket.on('data', (b: Buffer) => conn.read(b, 0, b.length));
    } else {
      socket = net.connect({
        host: this.host,
        port: this.port,
        onread: {
          buffer: this.readBuffer,
          callback: (n: number, buf: Uint8Array) => {
            conn.read(buf as Buffer, 0, n);
            return true;
          },
        },
      } as net.NetConnectOpts);
    }
    socket.setNoDelay(true);
    // The read callbacks above run only after this (a read never comes within connect()).
    const conn = new Connection(this, socket);
    socket.on('end', () => {
      conn.onClose();
      socket.destroy();
    });
    socket.on('error', (err) => conn.onClose(err));
    socket.on('close', () => conn.onClose());
    this.all.add(conn);
    return conn;
  }

  /** A connection whose response ended and may carry the next request. */
  release(conn: Connection): void {
    if (this.closedPool || conn.closed) return this.discard(conn);
    this.idle.add(conn);
  }

  /** A connection not to be used again. */
  discard(conn: Connection): void {
    this.idle.delete(conn);
    this.all.delete(conn);
    conn.closed = true;
    conn.socket.destroy();
  }

  /** The socket went away by itself. */
  forget(conn: Connection): void {
    this.idle.delete(conn);
    this.all.delete(conn);
  }

  close(): void {
    this.closedPool = true;
    for (const c of [...this.all]) {
      const p = c.pending;
      this.discard(c);
      if (p && !p.done) {
        p.done = true;
        p.exchange.fail(new Error('the client is closed'));
      }
    }
  }
}
