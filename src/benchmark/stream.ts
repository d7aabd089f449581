/**
 * Timing a streamed completion, whatever carries the bytes (an HTTP body, SageMaker PayloadParts).
 * The bytes are server-sent events (`data: {json}` lines, `data: [DONE]` at the end, `:` comments as
 * pings) or bare JSON lines; a line may be split across network chunks, and one chunk may hold several
 * lines. Timing follows vLLM's `async_request_openai_chat_completions`: the first data line with
 * choices sets TTFT, every later one appends its gap to the previous data line to ITL, and the latency
 * runs to the last data line (the usage chunk included).
 */

export class StreamTimer {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';
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

  constructor(readonly startMs: number) {
    this.last = startMs;
  }

  /** Feeds one network chunk that arrived at `nowMs`. */
  push(bytes: Uint8Array | string, nowMs: number): void {
    const text = typeof bytes === 'string' ? bytes : this.decoder.decode(bytes, { stream: true });
    if (!text) return;
    const data = this.pending + text;
    let start = 0;
    for (;;) {
      const nl = data.indexOf('\n', start);
      if (nl < 0) break;
      this.line(data.slice(start, nl), nowMs);
      start = nl + 1;
    }
    this.pending = data.slice(start);
  }

  /** The stream ended: a last line without a newline still counts. */
  end(nowMs: number): void {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (rest.trim()) this.line(rest, nowMs);
  }

  get latencyMs(): number {
    return this.last - this.startMs;
  }

  /** Output tokens: usage when present, else the chunks that carried content. */
  get outputTokens(): number {
    return this.usageCompletionTokens ?? this.contentChunks;
  }

  private line(raw: string, nowMs: number): void {
    let s = raw.trim();
    if (!s || s.startsWith(':')) return;
    if (s.startsWith('data:')) s = s.slice(5).trimStart();
    else if (/^(event|id|retry):/.test(s)) return;
    if (s === '[DONE]') {
      this.done = true;
      return;
    }
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
      if (this.ttftMs === 0) this.ttftMs = nowMs - this.startMs;
      else this.itlMs.push(nowMs - this.last);
      const first = choices?.[0] as { delta?: { content?: unknown }; text?: unknown } | undefined;
      const content = first ? (first.delta?.content ?? first.text) : o.token?.text;
      if (typeof content === 'string' && content.length > 0) {
        this.contentChunks++;
        this.textLength += content.length;
      }
    }
    if (o.usage && typeof o.usage === 'object') {
      const u = o.usage as { completion_tokens?: unknown; prompt_tokens?: unknown };
      if (typeof u.completion_tokens === 'number') this.usageCompletionTokens = u.completion_tokens;
      if (typeof u.prompt_tokens === 'number') this.usagePromptTokens = u.prompt_tokens;
    }
    this.last = nowMs;
  }
}
