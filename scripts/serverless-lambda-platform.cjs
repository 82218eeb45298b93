// A serverless plugin of this project: the externals serverless-esbuild installs into the zips
// (sharp's prebuilt libvips, libheif) must be Lambda's platform, linux-arm64 with glibc, whatever
// machine packages. serverless-esbuild runs `npm ci <installExtraArgs>` and then a bare `npm prune`,
// which swaps the binaries back to the packaging machine's platform. npm reads its configuration from
// npm_config_* environment variables in both, so they are set when packaging starts (this plugin is
// listed before serverless-esbuild, whose packaging hooks then run), for the npm processes it starts.
// Other commands (serverless offline) are left alone.
'use strict';

const LAMBDA_PLATFORM = { npm_config_os: 'linux', npm_config_cpu: 'arm64', npm_config_libc: 'glibc' };
const forLambda = () => {
  Object.assign(process.env, LAMBDA_PLATFORM);
};

class LambdaPlatformExternals {
  constructor() {
    this.hooks = {
      'before:package:createDeploymentArtifacts': forLambda,
      'before:deploy:function:packageFunction': forLambda,
    };
  }
}

module.exports = LambdaPlatformExternals;
