// Entry of the model-deploy command-line bundle.
import { isMainThread } from 'worker_threads';
import { main } from '../../cli/main';
import { loadHttpClient } from '../../core/http-client';
import { proxyConfigured } from '../../core/proxy';

async function start(): Promise<number> {
  // Every AWS request asks @actions/http-client's NO_PROXY rule (proxy.ts), synchronously: load it now,
  // as runAction does for the actions.
  if (proxyConfigured()) await loadHttpClient();
  return main(process.argv.slice(2));
}

// `benchmark --workers N` runs this same file in worker threads: they stream, the main thread runs the command.
if (isMainThread) {
  void start().then((code) => {
    process.exitCode = code;
  });
} else {
  void import('../../cli/benchmark').then((b) => b.runBenchmarkWorkerThread());
}
