/**
 * Timing a streamed completion, whatever carries the bytes (an HTTP body, SageMaker PayloadParts).
 * The bytes are server-sent events (`data: {json}` lines, `data: [DONE]` at the end, `:` comments as
 * pings) or bare JSON lines; a line may be split across network chunks, and one chunk may hold several
 * lines. Timing follows vLLM's `async_request_openai_chat_completions`: the first data line with
 * choices sets TTFT, every later one appends its gap to the previous data line to ITL, and the latency
 * runs to the last data line (the usage chunk included).
 *
 * Only what the metrics need is parsed: a token line (`"choices":[{...` with a `content`/`text` string, or
 * TGI's `"token":{`) is read by scanning for those keys; a line that names `usage` or `error`, or whose shape
 * the scan cannot tell, goes through JSON.parse (once or twice a stream). At 256 streams a JSON.parse per
 * token was most of the client's CPU, and a client short of CPU reads tokens late and in batches.
 *
 * Lines are cut from the bytes (a newline byte never sits inside a UTF-8 character); a plain token line (ASCII
 * content, no escape) is scanned in its bytes, any other data line's JSON decoded alone: no decoder state per
 * chunk, no trimmed or sliced copies per line, no object per token. What a token costs in allocation decides how often the young generation is collected, and at 64 streams those pauses
 * (1.5-5 ms each on a loaded 2-core machine) were the command's p99 ITL above the machine's.
 */

/** Where the value of `"key":` starts in `s` (whitespace allowed around the colon), or -1. */
function valueAt(s: string, key: string, from = 0): number {
  const at = s.indexOf(key, from);
  if (at < 0) return -1;
  let i = at + key.length;
  while (s.charCodeAt(i) === 32) i++;
  if (s.charCodeAt(i) !== 58 /* : */) return -1;
  i++;
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

/** scanToken's answers besides a content length (>= 0): a line with no token, a line the scan cannot read. */
const NO_TOKEN = -1;
const UNREADABLE = -2;

/**
 * What a token line says, read without JSON.parse: the length of the token's content string (0 for none),
 * NO_TOKEN (`"choices":[]`), or UNREADABLE when the scan cannot tell (parse it then).
 */
function scanToken(s: string): number {
  let i = valueAt(s, '"choices"');
  if (i >= 0) {
    if (s.charCodeAt(i) !== 91 /* [ */) return UNREADABLE;
    i++;
    while (s.charCodeAt(i) === 32) i++;
    if (s.charCodeAt(i) === 93 /* ] */) return NO_TOKEN;
    if (s.charCodeAt(i) !== 123 /* { */) return UNREADABLE;
  } else if ((i = valueAt(s, '"token"')) >= 0) {
    if (s.charCodeAt(i) !== 123) return UNREADABLE;
  } else {
    return UNREADABLE;
  }
  // The delta's own content (a logprobs object may carry a "content" list after it).
  const delta = valueAt(s, '"delta"', i);
  const from = delta >= 0 ? delta : i;
  let v = valueAt(s, '"content"', from);
  if (v < 0) v = valueAt(s, '"text"', from);
  if (v < 0 || s.charCodeAt(v) !== 34 /* " */) return 0;
  const close = s.indexOf('"', v + 1);
  if (close < 0) return UNREADABLE;
  const escape = s.indexOf('\\', v + 1);
  if (escape < 0 || escape > close) return close - v - 1;
  // An escape: find the real end of the string and decode just it.
  let end = v + 1;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === 92 /* \ */) end++;
    else if (c === 34) break;
  }
  try {
    return (JSON.parse(s.slice(v, end + 1)) as string).length;
  } catch {
    return UNREADABLE;
  }
}

const bytesOf = (key: string) => Uint8Array.from(Buffer.from(key, 'latin1'));
const CHOICES = bytesOf('"choices"');
const TOKEN = bytesOf('"token"');
const DELTA = bytesOf('"delta"');
const CONTENT = bytesOf('"content"');
const TEXT = bytesOf('"text"');
const USAGE = bytesOf('"usage"');
const ERROR = bytesOf('"error"');

/** Where `key` first occurs in bytes [from, to) of `buf`, or -1 (a loop: Buffer#indexOf would search past `to`). */
function indexIn(buf: Uint8Array, key: Uint8Array, from: number, to: number): number {
  const first = key[0];
  const n = key.length;
  outer: for (let i = from; i <= to - n; i++) {
    if (buf[i] !== first) continue;
    for (let j = 1; j < n; j++) if (buf[i + j] !== key[j]) continue outer;
    return i;
  }
  return -1;
}

/** valueAt on bytes [from, to). */
function valueAtBytes(buf: Uint8Array, key: Uint8Array, from: number, to: number): number {
  const at = indexIn(buf, key, from, to);
  if (at < 0) return -1;
  let i = at + key.length;
  while (i < to && buf[i] === 32) i++;
  if (buf[i] !== 58 || i >= to) return -1;
  i++;
  while (i < to && buf[i] === 32) i++;
  return i;
}

/**
 * scanToken on the bytes of a data line, for the plain case only: a content string of ASCII without escapes
 * (its length in bytes is its length in characters). Anything else is UNREADABLE, and the line's text decides.
 */
function scanTokenBytes(buf: Uint8Array, from: number, to: number): number {
  if (indexIn(buf, USAGE, from, to) >= 0 || indexIn(buf, ERROR, from, to) >= 0) return UNREADABLE;
  let i = valueAtBytes(buf, CHOICES, from, to);
  if (i >= 0) {
    if (buf[i] !== 91 /* [ */) return UNREADABLE;
    i++;
    while (i < to && buf[i] === 32) i++;
    if (buf[i] === 93 /* ] */) return NO_TOKEN;
    if (buf[i] !== 123 /* { */) return UNREADABLE;
  } else if ((i = valueAtBytes(buf, TOKEN, from, to)) >= 0) {
    if (buf[i] !== 123) return UNREADABLE;
  } else return UNREADABLE;
  const delta = valueAtBytes(buf, DELTA, i, to);
  const start = delta >= 0 ? delta : i;
  let v = valueAtBytes(buf, CONTENT, start, to);
  if (v < 0) v = valueAtBytes(buf, TEXT, start, to);
  if (v < 0 || buf[v] !== 34 /* " */) return 0;
  for (let k = v + 1; k < to; k++) {
    const c = buf[k]!;
    if (c === 34) return k - v - 1;
    if (c === 92 /* \ */ || c >= 0x80) return UNREADABLE;
  }
  return UNREADABLE;
}

/** Space, tab or carriage return: what a line's ends may carry besides its data. */
const isBlank = (c: number | undefined) => c === 32 || c === 9 || c === 13;

function parses(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

export class StreamTimer {
  /** The bytes of a line not ended yet (a line may be cut anywhere, mid-character too). */
  private pending: Buffer | undefined;
  /** The last read ended on a CR: an LF first in the next one belongs to it (CRLF cut between reads). */
  private afterCr = false;
  /** The event's data so far, when it is one data line in the buffer being read (no copy)... */
  private dataBuf: Buffer | undefined;
  private dataFrom = 0;
  private dataTo = 0;
  /** ...or as text: several data lines joined with LF, or one kept past the read that brought it. */
  private dataText: string | undefined;
  private first = true;
  private last: number;
  ttftMs = 0;
  readonly itlMs: number[] = [];
  /** Data lines carrying a token (choices with a delta, or a TGI-style `token`). */
  contentChunks = 0;
  /** completion_tokens from the usage chunk, when the server sent one. */
  usageCompletionTokens?: number;
  usagePromptTokens?: number;
  /** The first error object the stream carried. */
  error?: string;
  done = false;
  /** Characters of generated text (not kept: a run may stream millions of tokens). */
  textLength = 0;

  constructor(public startMs: number) {
    this.last = startMs;
  }

  /**
   * The request left for the server at `nowMs`: TTFT and latency count from here. A client starting many
   * requests at once writes them a tick later, after it has built them all (1024 at once: a tenth of a second
   * and more); that wait is the client's, not the server's.
   */
  sent(nowMs: number): void {
    if (this.ttftMs !== 0 || this.last !== this.startMs) return;
    this.startMs = nowMs;
    this.last = nowMs;
  }

  /** Feeds one network chunk that arrived at `nowMs`. */
  push(bytes: Uint8Array | string, nowMs: number): void {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pushRange(buf, 0, buf.length, nowMs);
  }

  /**
   * Feeds bytes [from, to) of `buf`, arrived at `nowMs`. Nothing of `buf` is kept past the call (the caller may
   * reuse it). Lines end in LF, CR or CRLF (WHATWG event-stream rules); a blank line dispatches the event, whose
   * data lines are joined with LF; `:` lines are comments; other fields are ignored. A line that starts with `{`
   * is a bare JSON line (a non-SSE stream of JSON lines), read at once.
   */
  pushRange(buf: Buffer, from: number, to: number, nowMs: number): void {
    if (to <= from) return;
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf.subarray(from, to)]);
      from = 0;
      to = buf.length;
      this.pending = undefined;
    }
    let start = from;
    if (this.first) {
      this.first = false;
      // A byte-order mark before the first line (TextDecoder dropped it too).
      if (to - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) start = from + 3;
    }
    if (this.afterCr) {
      this.afterCr = false;
      if (buf[start] === 10) start++;
    }
    // A CR is rare (most servers end lines in LF): found once per read, and again only past it.
    let cr = buf.indexOf(13, start);
    if (cr >= to) cr = -1;
    while (start < to) {
      let lf = buf.indexOf(10, start);
      if (lf >= to) lf = -1;
      if (cr >= 0 && cr < start) {
        cr = buf.indexOf(13, start);
        if (cr >= to) cr = -1;
      }
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        end = cr;
        if (cr + 1 < to) next = buf[cr + 1] === 10 ? cr + 2 : cr + 1;
        else {
          next = to;
          this.afterCr = true;
        }
      } else if (lf >= 0) {
        end = lf;
        next = lf + 1;
      } else break;
      this.lineBytes(buf, start, end, nowMs);
      start = next;
    }
    // Copies: the caller may reuse its buffer.
    if (start < to) this.pending = Buffer.from(buf.subarray(start, to));
    if (this.dataBuf) {
      this.dataText = this.dataBuf.toString('utf8', this.dataFrom, this.dataTo);
      this.dataBuf = undefined;
    }
  }

  /** The stream ended: a last line without a line end still counts, and so does an event without its blank line. */
  end(nowMs: number): void {
    const rest = this.pending;
    this.pending = undefined;
    if (rest) this.lineBytes(rest, 0, rest.length, nowMs);
    this.dispatch(nowMs);
  }

  get latencyMs(): number {
    return this.last - this.startMs;
  }

  /** Output tokens: usage when present, else the chunks that carried content. */
  get outputTokens(): number {
    return this.usageCompletionTokens ?? this.contentChunks;
  }

  /** One line, bytes [from, to) of `buf` without its line end. */
  private lineBytes(buf: Buffer, from: number, to: number, nowMs: number): void {
    if (to === from) {
      this.dispatch(nowMs);
      return;
    }
    // "data" (d a t a), then ":" or the line's end (a field with an empty value).
    if (to - from >= 4 && buf[from] === 100 && buf[from + 1] === 97 && buf[from + 2] === 116 && buf[from + 3] === 97) {
      if (to - from === 4) return this.appendData(buf, to, to);
      if (buf[from + 4] === 58 /* : */) {
        let at = from + 5;
        if (buf[at] === 32 && at < to) at++; // one space after the colon is not the value's
        return this.appendData(buf, at, to);
      }
    }
    if (buf[from] === 58 /* : a comment */) return;
    let at = from;
    while (at < to && isBlank(buf[at])) at++;
    if (at === to) {
      // A line of blanks: an event's end to a lenient reader.
      this.dispatch(nowMs);
      return;
    }
    this.line(buf.toString('utf8', at, to), nowMs);
  }

  /** A data line's value, bytes [from, to): kept in place while it is the event's only line. */
  private appendData(buf: Buffer, from: number, to: number): void {
    if (this.dataBuf === undefined && this.dataText === undefined) {
      this.dataBuf = buf;
      this.dataFrom = from;
      this.dataTo = to;
      return;
    }
    const before = this.dataBuf ? this.dataBuf.toString('utf8', this.dataFrom, this.dataTo) : this.dataText!;
    this.dataBuf = undefined;
    this.dataText = `${before}\n${buf.toString('utf8', from, to)}`;
  }

  /** A blank line: the event's data, if any, is read. */
  private dispatch(nowMs: number): void {
    let s: string;
    if (this.dataBuf) {
      const buf = this.dataBuf;
      let from = this.dataFrom;
      let to = this.dataTo;
      this.dataBuf = undefined;
      while (from < to && isBlank(buf[from])) from++;
      while (to > from && isBlank(buf[to - 1])) to--;
      if (from === to) return;
      // Most token lines are read in place, without their text (a string a token, ~1/3 of what one costs).
      const fast = buf[from] === 123 && buf[to - 1] === 125 ? scanTokenBytes(buf, from, to) : UNREADABLE;
      if (fast !== UNREADABLE) {
        if (fast !== NO_TOKEN) this.token(fast, nowMs);
        this.last = nowMs;
        return;
      }
      s = buf.toString('utf8', from, to);
    } else if (this.dataText !== undefined) {
      s = this.dataText.trim();
      this.dataText = undefined;
      if (!s) return;
      // Lines that are each a whole event, from a server that left out the blank lines between them.
      if (s.includes('\n') && !parses(s)) {
        for (const part of s.split('\n')) if (part.trim()) this.payload(part.trim(), nowMs);
        return;
      }
    } else return;
    this.payload(s, nowMs);
  }

  private line(s: string, nowMs: number): void {
    if (s.charCodeAt(0) === 58 /* : */) return;
    if (s.startsWith('data:')) s = s.slice(5).trimStart();
    else if (/^[A-Za-z-]*:/.test(s) && s.charCodeAt(0) !== 123) return; // event, id, retry, other fields
    s = s.trim();
    if (s) this.payload(s, nowMs);
  }

  /** A data line's value: [DONE], a token line the scan reads, or JSON to parse. */
  private payload(s: string, nowMs: number): void {
    if (s === '[DONE]') {
      this.done = true;
      return;
    }
    const fast = s.charCodeAt(0) === 123 && s.charCodeAt(s.length - 1) === 125 && s.indexOf('"usage"') < 0 && s.indexOf('"error"') < 0 ? scanToken(s) : UNREADABLE;
    if (fast !== UNREADABLE) {
      if (fast !== NO_TOKEN) this.token(fast, nowMs);
      this.last = nowMs;
      return;
    }
    this.parsed(s, nowMs);
  }

  private token(contentLength: number, nowMs: number): void {
    if (this.ttftMs === 0) this.ttftMs = nowMs - this.startMs;
    else this.itlMs.push(nowMs - this.last);
    if (contentLength > 0) {
      this.contentChunks++;
      this.textLength += contentLength;
    }
  }

  private parsed(s: string, nowMs: number): void {
    let obj: unknown;
    try {
      obj = JSON.parse(s);
    } catch {
      this.error ??= `unparseable stream line: ${s.slice(0, 120)}`;
      return;
    }
    if (!obj || typeof obj !== 'object') return;
    const o = obj as { choices?: unknown; usage?: unknown; error?: unknown; token?: { text?: unknown } };
    if (o.error !== undefined && o.error !== null) {
      const e = o.error as { message?: unknown };
      this.error ??= typeof e === 'object' && typeof e.message === 'string' ? e.message : String(typeof o.error === 'string' ? o.error : JSON.stringify(o.error)).slice(0, 200);
      return;
    }
    const choices = Array.isArray(o.choices) ? o.choices : undefined;
    if ((choices && choices.length > 0) || (o.token && typeof o.token === 'object')) {
      const first = choices?.[0] as { delta?: { content?: unknown }; text?: unknown } | undefined;
      const content = first ? (first.delta?.content ?? first.text) : o.token?.text;
      this.token(typeof content === 'string' ? content.length : 0, nowMs);
    }
    if (o.usage && typeof o.usage === 'object') {
      const u = o.usage as { completion_tokens?: unknown; prompt_tokens?: unknown };
      if (typeof u.completion_tokens === 'number') this.usageCompletionTokens = u.completion_tokens;
      if (typeof u.prompt_tokens === 'number') this.usagePromptTokens = u.prompt_tokens;
    }
    this.last = nowMs;
  }
}
