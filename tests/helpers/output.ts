import { vi } from 'vitest';

/**
 * Everything written to the given streams (stdout and stderr unless told) from now until
 * `vi.restoreAllMocks()`, kept in the returned array instead of printed: one entry per write.
 */
export function captureOutput(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): string[] {
  const writes: string[] = [];
  for (const stream of streams) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
  }
  return writes;
}
