/** What the deploy tests need besides the AWS stand-in: a copy of the project to package. */
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A copy of what `serverless package` reads, in a temp directory with node_modules linked: there
 * the command writes `.serverless/` and `.esbuild/` without touching the developer's.
 */
export async function projectCopy(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gallery-deploy-'));
  for (const entry of ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'scripts', 'web']) {
    await cp(entry, join(dir, entry), { recursive: true });
  }
  await symlink(resolve('node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
