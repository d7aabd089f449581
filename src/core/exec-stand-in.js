'use strict';
// Stands in for @actions/exec in the action bundles (src/entries/tsconfig.json "paths"). @actions/core's
// index imports it for `platform` (OS details), which no action reads; evaluating it (with
// child_process, @actions/io and assert) was ~5 ms of every start. Here the package is evaluated when
// a property is first read. @actions/exec is compiled TypeScript: __esModule is answered without
// loading it, so the __importStar of the importing module does not load it either.
let real;
function load() {
  // The package's folder by path: in the action bundles the package name means this file.
  real ??= require('../../node_modules/@actions/exec');
  return real;
}

module.exports = new Proxy(
  {},
  {
    get: (_target, key) => (key === '__esModule' ? true : load()[key]),
    has: (_target, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d ? { ...d, configurable: true } : undefined;
    },
  },
);
