/** Jest: TypeScript via ts-jest in transpile-only mode (type checking is `npm run typecheck`). */
module.exports = {
  // Shares Node's typed-array constructors with the sandbox so onnxruntime's instanceof checks pass.
  testEnvironment: '<rootDir>/test/helpers/ort-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  testTimeout: 120000,
  maxWorkers: process.env.CI ? 2 : '50%',
};
