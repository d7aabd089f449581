'use strict';
// Stands in for @actions/http-client in the bundles and the tests (see src/core/http-client.ts): the module
// loadHttpClient() loaded, property by property. Plain CommonJS: @actions/core requires it as such.
const { loadedHttpClient } = require('./http-client');
const { standIn } = require('./stand-in');

module.exports = standIn(() => {
  const mod = loadedHttpClient();
  if (!mod) throw new Error('@actions/http-client was used before loadHttpClient() loaded it (src/core/http-client.ts): load it where the OIDC token, GitHub client or proxy is first needed.');
  return mod;
});
