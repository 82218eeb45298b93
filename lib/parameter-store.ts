import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';

/** SSM could not give every parameter asked for; the message names them, never a value. */
export class ParameterStoreError extends Error {
  override name = 'ParameterStoreError';
}

// The read happens once, in a Lambda's init phase (10 s at most): a slow SSM must fail it in time,
// while the SDK's standard retries still absorb a throttled burst of cold starts.
const TIMEOUT_MS = 2_000;
const MAX_ATTEMPTS = 3;
/** GetParameters takes at most ten names. */
const MAX_NAMES = 10;

/**
 * Reads parameters by name from SSM Parameter Store in one GetParameters call, SecureStrings
 * decrypted, and returns each name's value. Throws ParameterStoreError naming every parameter that
 * does not exist, or saying why SSM refused or could not be reached (credentials, IAM, KMS).
 */
export async function readParameters(names: readonly string[], region: string): Promise<Map<string, string>> {
  if (names.length > MAX_NAMES) throw new ParameterStoreError(`at most ${MAX_NAMES} parameters can be read at once`);
  const client = new SSMClient({
    region,
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: { connectionTimeout: TIMEOUT_MS, requestTimeout: TIMEOUT_MS },
  });
  try {
    const { Parameters = [], InvalidParameters = [] } = await client
      .send(new GetParametersCommand({ Names: [...names], WithDecryption: true }))
      .catch((err: unknown) => {
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw new ParameterStoreError(`could not read the SSM parameters ${names.join(', ')}: ${reason}`, { cause: err });
      });
    if (InvalidParameters.length > 0) {
      const missing = names.filter((name) => InvalidParameters.includes(name));
      throw new ParameterStoreError(`SSM parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not found`);
    }
    return new Map(Parameters.flatMap((p) => (p.Name !== undefined ? [[p.Name, p.Value ?? '']] : [])));
  } finally {
    client.destroy();
  }
}
