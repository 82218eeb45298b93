// The plugins of serverless.yml, by command. Under `serverless offline` (npm start, the end-to-end
// tests) the handlers run from their TypeScript, through serverless offline's tsx, unbundled:
// serverless-esbuild would bundle all of them and `npm ci` sharp and libheif into its build folder at
// every start, which takes most of the start's time and needs the npm registry. Every other command
// (package, deploy) bundles them as Lambda runs them.
'use strict';

module.exports = () => [
  // Externals installed into the zips for Lambda's linux-arm64, whatever machine packages.
  './scripts/serverless-lambda-platform.cjs',
  ...(process.argv.includes('offline') ? [] : ['serverless-esbuild']),
  'serverless-offline',
];
