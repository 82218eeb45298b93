/**
 * `npm run db:backfill`: for images stored before the columns existed, fills what each file is (type,
 * size, dimensions, SHA-256) from its object, makes the variants of those that have none, reads when
 * and how the photos were taken (EXIF) of those processed before that was read, and folds every
 * title and description into the search columns. Reads `.env` like `npm run db:migrate`; the
 * environment names the database and the bucket as for the functions. Safe to run again: what is
 * done is skipped.
 */
import { fileURLToPath } from 'node:url';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.loadEnvFile?.();
  } catch {
    // no .env file: the environment is all there is
  }
  // Imported after the environment is complete: config is read at import.
  const { backfillFileFacts, backfillSearchText } = await import('../lib/images/backfill');
  const { backfillPhotoFacts, backfillVariants } = await import('../lib/variants/backfill');
  const { closeDb } = await import('../lib/db');
  const { closeRedis } = await import('../lib/redis');
  const facts = await backfillFileFacts();
  console.log(`backfill: ${facts.filled} image(s) filled, ${facts.failed.length} left as they are`);
  for (const { id, reason } of facts.failed) console.log(`  ${id}: ${reason}`);
  const variants = await backfillVariants();
  console.log(`variants: ${variants.filled} image(s) processed, ${variants.failed.length} not`);
  for (const { id, reason } of variants.failed) console.log(`  ${id}: ${reason}`);
  const taken = await backfillPhotoFacts();
  console.log(`photo facts: ${taken.filled} image(s) read, ${taken.failed.length} not`);
  for (const { id, reason } of taken.failed) console.log(`  ${id}: ${reason}`);
  console.log(`search text: ${await backfillSearchText()} image(s) folded`);
  await Promise.all([closeDb(), closeRedis()]);
  process.exit(facts.failed.length + variants.failed.length + taken.failed.length > 0 ? 1 : 0);
}
