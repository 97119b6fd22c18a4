/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // Once every test and the global teardown are done, exit. Node 20 was seen (once, in a CI run)
  // to spin at 100 % CPU in its own exit cleanup (Environment::CleanupHandles under
  // FreeEnvironment, with no libuv handle or request left) for over ten minutes after "Ran all
  // test suites"; process.exit does not go through that cleanup.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
