/**
 * @actions/http-client (with undici and tunnel, ~420 KB) is imported at the top of @actions/core for
 * getIDToken alone; evaluating it was ~35 ms of every action's start. In the action bundles the
 * package name means src/core/http-client-stand-in.js (src/entries/tsconfig.json "paths"), which
 * hands out the module loaded here, as a chunk of its own, by the code that needs it: an OIDC token
 * (credentials.ts), a GitHub client (github.ts), a proxy (runAction). A run that needs none of them
 * neither parses nor evaluates it. Tests and the CLI bundle load the package itself.
 */
type HttpClientModule = typeof import('@actions/http-client');

let loaded: HttpClientModule | undefined;

export async function loadHttpClient(): Promise<HttpClientModule> {
  // The package's folder by path: in the action bundles the package name means the stand-in.
  loaded ??= (await import('../../node_modules/@actions/http-client')) as HttpClientModule;
  return loaded;
}

/** The module, once loadHttpClient() has loaded it. */
export function loadedHttpClient(): HttpClientModule | undefined {
  return loaded;
}
