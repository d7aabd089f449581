/**
 * @actions/http-client (with undici and tunnel, ~420 KB) is imported at the top of @actions/core for
 * getIDToken alone; evaluating it was ~35 ms of every action's start. In the bundles and the tests
 * alike the package name means src/core/http-client-stand-in.js (tsconfig.json "paths", jest.config.js),
 * which hands out the module loaded here, as a chunk of its own, by the code that needs it: an OIDC
 * token (credentials.ts), a GitHub client (github.ts), a proxy (runAction, the CLI's entry). A run that
 * needs none of them neither parses nor evaluates it. This is the one import of the package itself
 * (tests/unit/core/http-client.test.ts checks that).
 */
type HttpClientModule = typeof import('@actions/http-client');

let loaded: HttpClientModule | undefined;

export async function loadHttpClient(): Promise<HttpClientModule> {
  // By its main file: the package name means the stand-in.
  loaded ??= (await import('@actions/http-client/lib/index')) as HttpClientModule;
  return loaded;
}

/** The module, once loadHttpClient() has loaded it. */
export function loadedHttpClient(): HttpClientModule | undefined {
  return loaded;
}
