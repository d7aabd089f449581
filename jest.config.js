/** Unit tests run the TypeScript sources; process tests run the built bundles in dist/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  // The module graph of the bundles (tsconfig.json "paths"): these package names mean their stand-ins,
  // for the packages that import them too.
  moduleNameMapper: {
    '^@actions/http-client$': '<rootDir>/src/core/http-client-stand-in.js',
    '^@actions/exec$': '<rootDir>/src/core/exec-stand-in.js',
  },
  // No test reaches the public Hugging Face Hub (tests/support/hub-offline.ts).
  setupFiles: ['<rootDir>/tests/support/hub-offline.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
};
