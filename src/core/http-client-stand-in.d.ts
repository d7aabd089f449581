// What the stand-in hands out is the package itself (once loadHttpClient() has loaded it).
export * from '@actions/http-client/lib/index';
