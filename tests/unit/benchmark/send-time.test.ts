/**
 * TTFT counts from when the request left for the server, not from when the client began building it: a
 * client starting many requests at once writes each one only after it has built them all (the socket write
 * happens a tick later), and that wait is the client's. Here the clock jumps 1000 ms between the call and the
 * write (as a burst of 1024 requests makes it), on a fake clock, so nothing depends on the machine's speed.
 */
import { openAiClient } from '../../../src/benchmark/client-openai';
import { startFakeOpenAi } from './fake-openai';

describe('the OpenAI client', () => {
  it('times TTFT and latency from the write of the request', async () => {
    const server = await startFakeOpenAi({ ttftMs: 1, itlMs: 1, tokens: 3, model: 'm' });
    let clock = 0;
    // After the jump each reading advances the clock by 1 ms.
    const now = () => (clock === 0 ? 0 : clock++);
    try {
      const client = openAiClient({ baseUrl: server.url, model: 'm', now });
      const pending = client.send({ index: 0, prompt: 'hi', promptTokens: 1, maxTokens: 3 }, new AbortController().signal);
      clock = 1000; // the client was busy building other requests before this one was written
      const outcome = await pending;
      await client.close?.();
      expect(outcome.success).toBe(true);
      expect(outcome.startMs).toBeGreaterThanOrEqual(1000);
      expect(outcome.ttftMs).toBeGreaterThan(0);
      expect(outcome.ttftMs).toBeLessThan(1000);
      expect(outcome.latencyMs).toBeLessThan(1000);
    } finally {
      await server.close();
    }
  });
});
