'use strict';
// Stands in for @actions/http-client in the action bundles (see src/core/http-client.ts): the module
// loadHttpClient() loaded, property by property. Plain CommonJS: @actions/core requires it as such.
const { loadedHttpClient } = require('./http-client');

function real() {
  const mod = loadedHttpClient();
  if (!mod) throw new Error('@actions/http-client was used before loadHttpClient() loaded it (src/core/http-client.ts): load it where the OIDC token, GitHub client or proxy is first needed.');
  return mod;
}

module.exports = new Proxy(
  {},
  {
    get: (_target, key) => real()[key],
    has: (_target, key) => key in real(),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), key);
      return d ? { ...d, configurable: true } : undefined;
    },
  },
);
