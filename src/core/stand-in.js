'use strict';
// A module object that reads every property from `load()`'s module when it is read: what the action
// bundles and the tests put in place of a package whose evaluation they defer (tsconfig.json "paths";
// http-client-stand-in.js, exec-stand-in.js). `esModule: true` answers __esModule without loading, for a
// package compiled from TypeScript: importers' __importStar reads it as they import.
function standIn(load, { esModule = false } = {}) {
  return new Proxy(
    {},
    {
      get: (_target, key) => (esModule && key === '__esModule' ? true : load()[key]),
      has: (_target, key) => key in load(),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_target, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        return d ? { ...d, configurable: true } : undefined;
      },
    },
  );
}

module.exports = { standIn };
