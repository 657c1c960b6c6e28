// Three layers (see README): unit (core/ and services/ against a scripted fake wx), pages (components and pages
// rendered by miniprogram-simulate in jsdom), live (the real pages and services against a dev server this run starts).
const common = {
  transform: { '\\.[jt]s$': 'babel-jest' },
  // TDesign's dist in miniprogram_npm is ESM: let babel through it.
  transformIgnorePatterns: ['/node_modules/'],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testEnvironment: 'node', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'pages',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/pages/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/setup.ts'],
    },
    {
      ...common,
      displayName: 'live',
      testEnvironment: 'jsdom',
      testMatch: ['<rootDir>/test/live/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/setup.ts'],
      globalSetup: '<rootDir>/test/live/server.setup.ts',
      globalTeardown: '<rootDir>/test/live/server.teardown.ts',
    },
  ],
};
