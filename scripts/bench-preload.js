// Preloaded by the benchmark to report a process's peak memory when it exits.
process.on('exit', () => {
  const file = process.env.MODEL_DEPLOY_BENCH_RSS_FILE;
  if (file) require('fs').writeFileSync(file, String(process.resourceUsage().maxRSS));
});
