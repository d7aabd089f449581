/**
 * A loopback OpenAI-compatible server for the benchmark's tests and bench (plain CommonJS so it runs
 * in a worker thread or a child process: its own event loop, as a real server would have, so the
 * client's timing is not distorted by sharing one).
 *
 * POST /v1/chat/completions streams `tokens` chunks (or max_tokens, whichever is smaller): the first
 * `ttftMs` after the request arrived, then one every `itlMs`, on an absolute schedule (timer lateness
 * does not accumulate), then a usage chunk and `data: [DONE]`. GET /v1/models lists one model.
 * Listens on 127.0.0.1 only.
 *
 * Worker thread (workerData.fakeOpenAi = options) or forked child (FAKE_OPENAI=<json options>, IPC):
 *   posts {type:'listening', url}; answers {type:'stats'} with {type:'stats', peakStreams, tokensSent,
 *   maxLateMs, requests:[{headers, body}]}; {type:'reset'} clears maxLateMs; {type:'close'} stops.
 * Child process: FAKE_OPENAI=<json options>; prints "URL <url>", then "STATS <json>" every second.
 */
'use strict';
const http = require('http');
const { isMainThread, parentPort, workerData } = require('worker_threads');

function start(options, onListening) {
  const model = options.model || 'fake-model';
  const state = { peakStreams: 0, tokensSent: 0, requests: [], maxLateMs: 0 };
  let open = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const arrived = performance.now();
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        // echoAuth: a careless server quoting the credential it refused (the client must not print it).
        res.end(options.echoAuth ? JSON.stringify({ error: `unauthorized: ${req.headers.authorization}` }) : '{"error":"unauthorized"}');
        return;
      }
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model' }] }));
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404);
        res.end();
        return;
      }
      let body = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        res.writeHead(400);
        res.end('{"error":{"message":"bad json"}}');
        return;
      }
      if (options.record !== false) state.requests.push({ headers: req.headers, body });
      if (options.maxStreams && open >= options.maxStreams) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"overloaded"}}');
        return;
      }
      if (options.failWith) {
        res.writeHead(options.failWith, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"failing on purpose"}}');
        return;
      }
      const n = Math.min(typeof body.max_tokens === 'number' ? body.max_tokens : options.tokens, options.tokens);
      const promptWords = String((body.messages && body.messages[0] && body.messages[0].content) || '').split(' ').length;
      // Headers go out at once, as a streaming server's do (Starlette sends them before the first token).
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      open++;
      state.peakStreams = Math.max(state.peakStreams, open);
      const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
      const write = (event) => {
        if (!options.splitEvents) return res.write(event);
        const cut = Math.max(1, Math.floor(event.length / 2));
        res.write(event.slice(0, cut));
        return res.write(event.slice(cut));
      };
      let k = 0;
      let timer;
      let closed = false;
      const finish = () => {
        if (closed) return;
        closed = true;
        open--;
        clearTimeout(timer);
      };
      res.on('close', finish);
      const tick = () => {
        if (res.destroyed) return finish();
        // How late this token is against its schedule (timer lateness: the server's own delay).
        state.maxLateMs = Math.max(state.maxLateMs, performance.now() - (arrived + options.ttftMs + k * options.itlMs));
        write(`data: {"id":"${id}","object":"chat.completion.chunk","model":"${model}","choices":[{"index":0,"delta":{"content":"tok${k} "},"finish_reason":${k === n - 1 ? '"length"' : 'null'}}]}\n\n`);
        state.tokensSent++;
        k++;
        if (k < n) {
          timer = setTimeout(tick, Math.max(0, arrived + options.ttftMs + k * options.itlMs - performance.now()));
          return;
        }
        if (options.usage !== false) {
          write(`data: {"id":"${id}","object":"chat.completion.chunk","model":"${model}","choices":[],"usage":{"prompt_tokens":${promptWords},"completion_tokens":${n},"total_tokens":${promptWords + n}}}\n\n`);
        }
        write('data: [DONE]\n\n');
        res.end();
        finish();
      };
      timer = setTimeout(tick, Math.max(0, arrived + options.ttftMs - performance.now()));
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(0, '127.0.0.1', () => onListening(`http://127.0.0.1:${server.address().port}`));
  return { state, server };
}

/** Serves stats requests from a parent: a worker thread's port, or a forked child's IPC channel. */
function serveParent(options, port) {
  const { state, server } = start(options, (url) => port.postMessage({ type: 'listening', url }));
  port.on('message', (m) => {
    if (m.type === 'stats') port.postMessage({ type: 'stats', peakStreams: state.peakStreams, tokensSent: state.tokensSent, maxLateMs: state.maxLateMs, requests: state.requests });
    if (m.type === 'reset') state.maxLateMs = 0;
    if (m.type === 'close') {
      server.closeAllConnections();
      server.close(() => process.exit(0));
    }
  });
}

if (!isMainThread && workerData && workerData.fakeOpenAi) {
  serveParent(workerData.fakeOpenAi, parentPort);
} else if (require.main === module && process.send) {
  // Forked: its own process (and heap), so the parent's work and garbage collection do not delay it.
  serveParent(JSON.parse(process.env.FAKE_OPENAI || '{}'), { postMessage: (m) => process.send(m), on: (e, f) => process.on(e, f) });
  process.on('disconnect', () => process.exit(0));
} else if (require.main === module) {
  const options = JSON.parse(process.env.FAKE_OPENAI || '{}');
  const { state, server } = start({ ...options, record: false }, (url) => process.stdout.write(`URL ${url}\n`));
  setInterval(() => process.stdout.write(`STATS ${JSON.stringify({ peakStreams: state.peakStreams, tokensSent: state.tokensSent, maxLateMs: state.maxLateMs, cpu: process.cpuUsage() })}\n`), 1000).unref();
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

module.exports = { start };
