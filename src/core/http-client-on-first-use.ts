/**
 * Stands in for @actions/http-client in the action bundles (src/entries/tsconfig.json maps the name
 * here; tests and the CLI load the package itself). @actions/core's index imports it at the top for
 * getIDToken alone, and evaluating it (undici, tunnel) is ~35 ms of every action's start, more than
 * the rest of an estimate. Here it is evaluated when first used: an OIDC token, a proxy, a GitHub call.
 */
type HttpClientModule = typeof import('@actions/http-client');

let loaded: HttpClientModule | undefined;
function load(): HttpClientModule {
  // The package's folder (its package.json "main"), by a path the mapping does not match.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('../../node_modules/@actions/http-client') as HttpClientModule;
  return loaded;
}

module.exports = new Proxy(
  {},
  {
    get: (_target, key) => (load() as unknown as Record<string | symbol, unknown>)[key],
    has: (_target, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d ? { ...d, configurable: true } : undefined;
    },
  },
);
