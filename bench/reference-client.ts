/**
 * A minimal streaming client (plain http, one content event = one token) that times requests the plain
 * way, in the bench's own process: the reference the benchmark command's figures are divided by, so
 * machine noise slows both alike and a ratio off 1 is the command's own.
 */
import * as http from 'http';

export type Figures = Record<'median_ttft_ms' | 'mean_tpot_ms' | 'median_itl_ms' | 'median_e2el_ms' | 'request_throughput' | 'output_throughput', number>;
/** The figures a proxy comparison needs besides: tails, and answers that were not a 200 stream. */
export type ProxyFigures = Figures & { p99_ttft_ms: number; p99_itl_ms: number; failed: number; tokens: number };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))] ?? NaN;

/** One streamed request timed the plain way: first content event, the gaps between events, the end. */
function timedRequest(agent: http.Agent, url: string, key: string, tokens: number): Promise<{ ttft: number; gaps: number[]; e2el: number; tokens: number; status: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const body = JSON.stringify({ model: 'fake-model', stream: true, max_tokens: tokens, messages: [{ role: 'user', content: 'hello' }] });
    const req = http.request(`${url}/v1/chat/completions`, { agent, method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let buffer = '';
      const at: number[] = [];
      res.on('data', (chunk: Buffer) => {
        const now = performance.now();
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          if (buffer.slice(0, end).includes('"content"')) at.push(now);
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('end', () => {
        const e2el = performance.now() - start;
        resolve({ ttft: at[0] - start, gaps: at.slice(1).map((t, i) => t - at[i]), e2el, tokens: at.length, status: res.statusCode ?? 0 });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The same closed loop the command runs: `concurrency` streams, `requests` in all. */
export async function reference(url: string, key: string, tokens: number, concurrency: number, requests: number): Promise<ProxyFigures> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let results: Awaited<ReturnType<typeof timedRequest>>[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        results.push(await timedRequest(agent, url, key, tokens).catch(() => ({ ttft: NaN, gaps: [], e2el: NaN, tokens: 0, status: 0 })));
      }
    }),
  );
  const wallS = (performance.now() - started) / 1000;
  agent.destroy();
  const failed = results.filter((r) => r.status !== 200 || r.tokens === 0).length;
  const all = results;
  results = results.filter((r) => r.status === 200 && r.tokens > 0);
  const received = results.reduce((a, r) => a + r.tokens, 0);
  return {
    p99_ttft_ms: p99(results.map((r) => r.ttft)),
    p99_itl_ms: p99(results.flatMap((r) => r.gaps)),
    failed,
    tokens: received,
    median_ttft_ms: median(results.map((r) => r.ttft)),
    mean_tpot_ms: mean(results.map((r) => (r.e2el - r.ttft) / (r.tokens - 1))),
    median_itl_ms: median(results.flatMap((r) => r.gaps)),
    median_e2el_ms: median(results.map((r) => r.e2el)),
    request_throughput: (all.length - failed) / wallS,
    output_throughput: received / wallS,
  };
}

