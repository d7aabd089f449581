/**
 * The reference server the benchmark client's accuracy is measured against: an OpenAI-compatible stream
 * whose timing is KNOWN even on a loaded machine, because it records when it actually wrote each token
 * (performance.now() right after the write), not when it meant to. The truth figures are computed from those
 * records: TTFT = first token written − request read; ITL = the gaps between one stream's token writes.
 * A client that reads on time reads the same figures; one that falls behind reads them late or batched.
 *
 * Runs in its own processes (node:cluster, PROCESSES of them sharing one port, default 2), apart from the
 * client: its loops are not the client's, and their own lateness is recorded (event-loop delay p99: the most
 * a request can have waited unread before "request read", the one part of TTFT the truth cannot see).
 *
 * Forked with REFERENCE_SERVER=<json {ttftMs, itlMs, tokens, processes}> and an IPC channel:
 *   posts {type:'listening', url}; on {type:'truth'} answers {type:'truth', ttftMs:[], itlMs:[], tokens,
 *   lagP99Ms, maxLateMs} with every sample since the last ask (and clears them); {type:'close'} stops.
 * Plain CommonJS: it runs as it is, on any Node, with nothing compiled.
 */
'use strict';
const cluster = require('cluster');
const http = require('http');
const { monitorEventLoopDelay } = require('perf_hooks');

const options = JSON.parse(process.env.REFERENCE_SERVER || '{}');
const TTFT = options.ttftMs ?? 200;
const ITL = options.itlMs ?? 20;
const TOKENS = options.tokens ?? 32;

function serve() {
  let ttfts = [];
  let itls = [];
  let tokens = 0;
  let maxLateMs = 0;
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const arrived = performance.now();
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"object":"list","data":[{"id":"fake-model","object":"model"}]}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      const id = `chatcmpl-${process.pid}-${arrived.toFixed(3)}`;
      const asked = /"max_tokens":(\d+)/.exec(body);
      const n = Math.min(TOKENS, asked ? Number(asked[1]) : TOKENS);
      // Warm-up requests (shorter answers) are not in the measured level: they stay out of the truth.
      const measured = n === TOKENS;
      const written = [];
      let k = 0;
      let timer;
      const tick = () => {
        if (res.destroyed) return;
        maxLateMs = Math.max(maxLateMs, performance.now() - (arrived + TTFT + k * ITL));
        res.write(`data: {"id":"${id}","object":"chat.completion.chunk","model":"fake-model","choices":[{"index":0,"delta":{"content":"tok${k} "},"finish_reason":${k === n - 1 ? '"length"' : 'null'}}]}\n\n`);
        // The truth: when this token was handed to the socket, whatever the schedule said.
        written.push(performance.now());
        tokens++;
        k++;
        if (k < n) {
          timer = setTimeout(tick, Math.max(0, arrived + TTFT + k * ITL - performance.now()));
          return;
        }
        res.write(`data: {"id":"${id}","object":"chat.completion.chunk","model":"fake-model","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":${n},"total_tokens":${n + 1}}}\n\n`);
        res.end('data: [DONE]\n\n');
        if (!measured) return;
        ttfts.push(written[0] - arrived);
        for (let i = 1; i < written.length; i++) itls.push(written[i] - written[i - 1]);
      };
      res.on('close', () => clearTimeout(timer));
      timer = setTimeout(tick, TTFT);
    });
  });
  server.keepAliveTimeout = 120_000;
  // Port 0 in every cluster worker: the primary gives them all the same one.
  server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
  process.on('message', (m) => {
    if (m.type === 'truth') {
      process.send({ type: 'truth', ttftMs: ttfts, itlMs: itls, tokens, lagP99Ms: Math.max(0, lag.percentile(99) / 1e6 - 5), maxLateMs });
      ttfts = [];
      itls = [];
      tokens = 0;
      maxLateMs = 0;
      lag.reset();
    }
  });
}

function primary() {
  const n = Math.max(1, options.processes ?? 2);
  const workers = [];
  let port = 0;
  const startOne = () =>
    new Promise((resolve) => {
      const w = cluster.fork();
      w.on('message', (m) => {
        if (m.type === 'listening') {
          port = m.port;
          resolve();
        }
      });
      workers.push(w);
    });
  (async () => {
    for (let i = 0; i < n; i++) await startOne();
    process.send({ type: 'listening', url: `http://127.0.0.1:${port}` });
  })();
  process.on('message', async (m) => {
    if (m.type === 'truth') {
      const parts = await Promise.all(
        workers.map(
          (w) =>
            new Promise((resolve) => {
              const on = (r) => {
                if (r.type !== 'truth') return;
                w.off('message', on);
                resolve(r);
              };
              w.on('message', on);
              w.send({ type: 'truth' });
            }),
        ),
      );
      // Raw samples pooled: the truth's medians and p99s are computed over every stream, as the client's are.
      process.send({
        type: 'truth',
        ttftMs: parts.flatMap((p) => p.ttftMs),
        itlMs: parts.flatMap((p) => p.itlMs),
        tokens: parts.reduce((a, p) => a + p.tokens, 0),
        lagP99Ms: Math.max(...parts.map((p) => p.lagP99Ms)),
        maxLateMs: Math.max(...parts.map((p) => p.maxLateMs)),
      });
    }
    if (m.type === 'close') {
      for (const w of workers) w.kill();
      process.exit(0);
    }
  });
  process.on('disconnect', () => {
    for (const w of workers) w.kill();
    process.exit(0);
  });
}

if (cluster.isPrimary) primary();
else serve();
