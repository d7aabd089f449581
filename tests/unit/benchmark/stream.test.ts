/** The stream parser: SSE framing cut anywhere, comments, [DONE], usage, bare JSON lines, errors. */
import { StreamTimer } from '../../../src/benchmark/stream';

const chunk = (content: string) => `data: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}}}]}\n\n`;
const USAGE = 'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}\n\n';

describe('StreamTimer', () => {
  it('times the first token and the gaps, and takes the token count from usage', () => {
    const t = new StreamTimer(1000);
    t.push(': ping\n\n', 1050);
    t.push(chunk('a'), 1100);
    t.push(chunk('b'), 1120);
    t.push(chunk('c') + USAGE + 'data: [DONE]\n\n', 1150);
    t.end(1160);
    expect(t.ttftMs).toBe(100);
    expect(t.itlMs).toEqual([20, 30]);
    // The usage chunk is the last data line: latency runs to it, as in vLLM.
    expect(t.latencyMs).toBe(150);
    expect(t.outputTokens).toBe(3);
    expect(t.usagePromptTokens).toBe(7);
    expect(t.done).toBe(true);
    expect(t.error).toBeUndefined();
  });

  it('joins lines split across network chunks, in bytes and mid-character', () => {
    const t = new StreamTimer(0);
    const bytes = new TextEncoder().encode(chunk('é') + chunk('ü'));
    const cut = bytes.indexOf(0xc3) + 1; // inside the two-byte é
    t.push(bytes.slice(0, cut), 10);
    expect(t.ttftMs).toBe(0);
    const secondStart = bytes.indexOf(0x64, cut); // the "d" of the second "data:"
    t.push(bytes.slice(cut, secondStart + 3), 20); // the first line ends here, the second begins
    t.push(bytes.slice(secondStart + 3), 30);
    t.end(40);
    expect(t.ttftMs).toBe(20);
    expect(t.itlMs).toEqual([10]);
    expect(t.contentChunks).toBe(2);
    expect(t.textLength).toBe(2);
    // No usage: the chunks that carried content are the count.
    expect(t.outputTokens).toBe(2);
  });

  it('reads bare JSON lines and TGI-style token events, and a last line without a newline', () => {
    const t = new StreamTimer(0);
    t.push('{"token":{"text":"x"}}\r\n', 5);
    t.push('data:{"choices":[{"delta":{"content":"y"}}]}', 9);
    t.end(12);
    expect(t.ttftMs).toBe(5);
    expect(t.itlMs).toEqual([7]);
    expect(t.outputTokens).toBe(2);
  });

  it('records an error object in the stream', () => {
    const t = new StreamTimer(0);
    t.push('data: {"error":{"message":"model overloaded"}}\n\n', 3);
    expect(t.error).toBe('model overloaded');
  });

  it('ignores event/id/retry fields and counts a role-only first chunk as the first token, as vLLM does', () => {
    const t = new StreamTimer(0);
    t.push('event: message\nid: 1\nretry: 10\n', 1);
    t.push('data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n', 4);
    t.push(chunk('z'), 6);
    expect(t.ttftMs).toBe(4);
    expect(t.itlMs).toEqual([2]);
    expect(t.contentChunks).toBe(1);
  });
});

describe('StreamTimer parses only what the metrics need', () => {
  const lines = [
    chunk('plain'),
    chunk('with "quotes" and \\ backslash'),
    'data: {"id":"x","choices": [ {"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
    'data: {"choices":[{"index":0,"delta":{"content":null}}]}\n\n',
    'data: {"choices":[{"index":0,"delta":{"content":"ü"},"logprobs":{"content":[{"token":"ü"}]}}]}\n\n',
    'data: {"choices":[{"index":0,"text":"completion"}]}\n\n',
    '{"token":{"id":1,"text":"tgi"}}\n',
    'data: {"choices":[]}\n\n',
  ];

  it('reads token lines without JSON.parse: at most the usage line is parsed', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const t = new StreamTimer(0);
      for (let i = 0; i < 100; i++) t.push(chunk(`t${i}`), 10 + i);
      t.push(USAGE + 'data: [DONE]\n\n', 200);
      t.end(201);
      expect(t.contentChunks).toBe(100);
      expect(t.itlMs).toHaveLength(99);
      expect(parse.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('reads a plain token line in place, without decoding its text', () => {
    const decode = jest.spyOn(Buffer.prototype, 'toString');
    try {
      const t = new StreamTimer(0);
      const bytes = Buffer.from(chunk('plain') + chunk('') + 'data: {"choices":[]}\n\n');
      decode.mockClear();
      for (let i = 0; i < 50; i++) t.push(bytes, 10 + i);
      expect(decode).not.toHaveBeenCalled();
      expect([t.contentChunks, t.textLength, t.itlMs.length]).toEqual([50, 250, 99]);
    } finally {
      decode.mockRestore();
    }
  });

  it('reads every token shape as a full JSON parse would', () => {
    const t = new StreamTimer(0);
    lines.forEach((l, i) => t.push(l, 10 * (i + 1)));
    t.end(100);
    // Every line but the empty choices carries a token; content strings: all but the empty and null ones.
    expect(t.ttftMs).toBe(10);
    expect(t.itlMs).toEqual([10, 10, 10, 10, 10, 10]);
    expect(t.contentChunks).toBe(5);
    expect(t.textLength).toBe('plain'.length + 'with "quotes" and \\ backslash'.length + 1 + 'completion'.length + 'tgi'.length);
    expect(t.latencyMs).toBe(80);
    expect(t.error).toBeUndefined();
  });

  it('cuts lines from the bytes: a token line split mid-character, CRLF endings, a byte-order mark, a reused buffer', () => {
    const t = new StreamTimer(0);
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(chunk('日本').replace(/\n/g, '\r\n')), Buffer.from(chunk('ok'))]);
    const cut = bytes.indexOf(0xe6) + 1; // inside the three-byte 日
    const reused = Buffer.alloc(bytes.length);
    bytes.copy(reused, 0, 0, cut);
    t.push(reused.subarray(0, cut), 5);
    reused.fill(0); // the caller's buffer is overwritten before the next read
    t.push(bytes.subarray(cut), 7);
    t.end(9);
    expect(t.error).toBeUndefined();
    expect(t.ttftMs).toBe(7);
    expect(t.itlMs).toEqual([0]);
    expect(t.contentChunks).toBe(2);
    // Characters, not bytes: 日本 is 2, ok is 2.
    expect(t.textLength).toBe(4);
  });

  it('still reports a line that is not JSON', () => {
    const t = new StreamTimer(0);
    t.push('data: {"choices":[{"delta":{"content":"x"}}]\n\n', 1);
    expect(t.error).toMatch(/unparseable stream line/);
  });
});

/** The WHATWG event-stream rules (html.spec.whatwg.org, "Interpreting an event stream"), cut at every byte. */
describe('StreamTimer follows the event-stream rules', () => {
  const token = '{"choices":[{"delta":{"content":"x"}}]}';

  /** Feeds `text` in two reads cut at every position: each cut must give the same tokens and times. */
  function everyCut(text: string, check: (t: StreamTimer, cut: number) => void): void {
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) {
      const t = new StreamTimer(0);
      t.push(bytes.subarray(0, cut), 10);
      t.push(bytes.subarray(cut), 20);
      t.end(30);
      check(t, cut);
    }
  }

  it('ends lines in CR, LF or CRLF, a CRLF cut between reads included', () => {
    // "data: A\r" then "\ndata: B\r\n\r\n": the LF after a CR is that line's end, not a blank line.
    for (const text of [`data: ${token}\r\r`, `data: ${token}\n\n`, `data: ${token}\r\n\r\n`, `data: {"choices":[{"delta":\r\ndata: {"content":"x"}}]}\r\n\r\n`]) {
      everyCut(text, (t, cut) => {
        expect({ cut, error: t.error, tokens: t.contentChunks }).toEqual({ cut, error: undefined, tokens: 1 });
      });
    }
  });

  it('times an event at its blank line, wherever the read was cut (inside "data:" too)', () => {
    const text = `: ping\n\ndata: ${token}\n\n`;
    const blank = text.length - 1; // the event's blank line
    everyCut(text, (t, cut) => {
      expect({ cut, ttft: t.ttftMs }).toEqual({ cut, ttft: cut <= blank ? 20 : 10 });
    });
  });

  it('joins the data lines of one event with LF, and skips comments and other fields between them', () => {
    const t = new StreamTimer(0);
    t.push('data: {"choices":[{"delta":\n: a comment\nid: 7\ndata:{"content":"ab"}}]}\n', 5);
    expect(t.ttftMs).toBe(0); // the event has not ended
    t.push('\n', 6);
    expect(t.ttftMs).toBe(6);
    expect(t.textLength).toBe(2);
    expect(t.error).toBeUndefined();
  });

  it('reads lines that are each a whole event from a server that leaves out the blank lines', () => {
    const t = new StreamTimer(0);
    t.push(`data: ${token}\ndata: ${token}\n`, 5);
    t.push('data: [DONE]\n\n', 6);
    expect(t.contentChunks).toBe(2);
    expect(t.error).toBeUndefined();
  });
});
