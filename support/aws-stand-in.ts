/**
 * An AWS stand-in for the deploy tests and the bench's cold starts: `moto_server` (moto 5, Python)
 * on a free loopback port gives a real SSM API (and S3, CloudFormation for Lambda/IAM/S3/Logs). Every
 * AWS SDK v3 client, osls's included, goes there when `AWS_ENDPOINT_URL` is set (`awsEnv`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { freePort } from './ports';

/** Whether a command is on the PATH. */
export const hasCommand = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

export const REGION = 'eu-central-1';

export interface AwsStandIn {
  url: string;
  /** The environment that sends AWS SDK v3 clients (osls's too) to the stand-in. */
  env: Record<string, string>;
  /** Creates SecureString parameters, values as given (the AWS CLI v1 would fetch `https://` values). */
  putParameters: (parameters: Record<string, string>) => Promise<void>;
  stop: () => Promise<void>;
}

/** Starts moto_server on 127.0.0.1 and waits until it answers. */
export async function startAwsStandIn(): Promise<AwsStandIn> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = `${stderr}${d}`.slice(-4000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`moto_server exited (${code}): ${stderr}`)));
  });
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      const up = await fetch(`${url}/moto-api/`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto_server did not answer on ${url}: ${stderr}`);
  })();
  await Promise.race([ready, failed]);
  failed.catch(() => {});

  const env = {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    // The SDK's notice that Node 20 is near its end, on every client's first call.
    NODE_NO_WARNINGS: '1',
  };
  const ssm = new SSMClient({
    region: REGION,
    endpoint: url,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  return {
    url,
    env,
    putParameters: async (parameters) => {
      for (const [Name, Value] of Object.entries(parameters)) {
        await ssm.send(new PutParameterCommand({ Name, Value, Type: 'SecureString', Overwrite: true }));
      }
    },
    stop: async () => {
      ssm.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
