/** Unit tests run the TypeScript sources; process tests run the built bundles in dist/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  // Bundles import some SDK clients from their ES-module build (src/core/sdk); tests use the package.
  moduleNameMapper: { '^@aws-sdk/(client-[a-z-]+)/dist-es/.*$': '@aws-sdk/$1' },
  testTimeout: 60000,
  maxWorkers: 2,
};
