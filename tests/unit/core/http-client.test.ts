/**
 * The action bundles map @actions/http-client to src/core/http-client-stand-in.js (src/entries/tsconfig.json),
 * which hands out what loadHttpClient() loaded. Here the stand-in is required directly, as the bundle does.
 */
import * as real from '@actions/http-client';

type HttpClientModule = typeof import('@actions/http-client');

function fresh(): { standIn: HttpClientModule; loader: typeof import('../../../src/core/http-client') } {
  let standIn: HttpClientModule | undefined;
  let loader: typeof import('../../../src/core/http-client') | undefined;
  jest.isolateModules(() => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    standIn = require('../../../src/core/http-client-stand-in.js') as HttpClientModule;
    loader = require('../../../src/core/http-client') as typeof import('../../../src/core/http-client');
    /* eslint-enable @typescript-eslint/no-require-imports */
  });
  return { standIn: standIn!, loader: loader! };
}

describe('the @actions/http-client stand-in of the action bundles', () => {
  it('says what is wrong when used before loadHttpClient()', () => {
    const { standIn } = fresh();
    expect(() => standIn.getProxyUrl('https://api.github.com')).toThrow(/used before loadHttpClient\(\) loaded it/);
  });

  it('is the package itself once loaded: functions, classes and the __esModule flag @actions/github reads', async () => {
    const { standIn, loader } = fresh();
    await loader.loadHttpClient();
    expect(standIn.getProxyUrl).toBe(real.getProxyUrl);
    expect(new standIn.HttpClient('test')).toBeInstanceOf(real.HttpClient);
    expect((standIn as unknown as { __esModule?: boolean }).__esModule).toBe(true);
    expect(Object.keys(standIn)).toEqual(expect.arrayContaining(['HttpClient', 'getProxyUrl']));
  });
});
