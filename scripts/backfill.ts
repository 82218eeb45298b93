/**
 * `npm run db:backfill`: fills what each file is (type, size, dimensions, SHA-256) for images stored
 * before those columns existed, reading their objects. Reads `.env` like `npm run db:migrate`; the
 * environment names the database and the bucket as for the functions.
 */
import { fileURLToPath } from 'node:url';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.loadEnvFile?.();
  } catch {
    // no .env file: the environment is all there is
  }
  // Imported after the environment is complete: config is read at import.
  const { backfillFileFacts } = await import('../lib/images/backfill');
  const { closeDb } = await import('../lib/db');
  const report = await backfillFileFacts();
  console.log(`backfill: ${report.filled} image(s) filled, ${report.failed.length} left as they are`);
  for (const { id, reason } of report.failed) console.log(`  ${id}: ${reason}`);
  await closeDb();
  process.exit(report.failed.length > 0 ? 1 : 0);
}
