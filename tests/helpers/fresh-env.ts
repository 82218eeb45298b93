import { vi } from 'vitest';

/**
 * Runs `load` on fresh modules with `env` over the environment (an undefined value removes a
 * variable), and restores the environment as soon as it returns: every config section is read at
 * import, so what was loaded keeps `env` and nothing leaks into the next test.
 */
export async function loadWithEnv<T>(env: Record<string, string | undefined>, load: () => Promise<T>): Promise<T> {
  vi.resetModules();
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(env);
  try {
    return await load();
  } finally {
    apply(saved);
  }
}
