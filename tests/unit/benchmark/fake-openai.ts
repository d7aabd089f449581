/**
 * Starts the loopback OpenAI-compatible server (fake-openai-server.js) in its own process: its own
 * event loop and heap, like a real server's, so the timing measured is not a shared loop's (or the
 * jest process's garbage collection).
 */
import * as path from 'path';
import { fork } from 'child_process';
import type { IncomingHttpHeaders } from 'http';

export interface FakeOpenAiOptions {
  ttftMs: number;
  itlMs: number;
  /** Tokens per answer (capped by the request's max_tokens). */
  tokens: number;
  /** When set, requests must carry `authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** A 401 answer quotes the authorization header it refused. */
  echoAuth?: boolean;
  /** Send the usage chunk (default true). */
  usage?: boolean;
  /** Write each event in two halves, split mid-line. */
  splitEvents?: boolean;
  model?: string;
  /** Answer 503 while this many streams are open (an overloaded server). */
  maxStreams?: number;
  /** Answer every chat request with this status and an error body. */
  failWith?: number;
  /** Keep request headers and bodies for stats() (default true). */
  record?: boolean;
}

export interface FakeStats {
  peakStreams: number;
  tokensSent: number;
  /** Most a token was sent after its schedule, ms (the server's own lateness). */
  maxLateMs: number;
  requests: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[];
}

export interface FakeOpenAi {
  url: string;
  stats(): Promise<FakeStats>;
  /** Clears maxLateMs. */
  reset(): void;
  close(): Promise<void>;
}

export const FAKE_SERVER_SCRIPT = path.join(__dirname, 'fake-openai-server.js');

export async function startFakeOpenAi(options: FakeOpenAiOptions): Promise<FakeOpenAi> {
  const child = fork(FAKE_SERVER_SCRIPT, [], { env: { PATH: process.env.PATH ?? '', FAKE_OPENAI: JSON.stringify(options) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`fake server exited (${code})`)));
    child.on('message', (m: { type: string; url?: string }) => {
      if (m.type === 'listening') resolve(m.url!);
    });
  });
  return {
    url,
    stats: () =>
      new Promise<FakeStats>((resolve) => {
        const onMessage = (m: FakeStats & { type: string }) => {
          if (m.type !== 'stats') return;
          child.off('message', onMessage);
          resolve(m);
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' });
      }),
    reset: () => void child.send({ type: 'reset' }),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
