import { type SQL, sql } from 'drizzle-orm';
import { images } from '../schema';
import { fold } from './fold';

/** A lexeme as a quoted tsquery prefix (`'word':*`), its backslashes and quotes doubled: any characters are safe. */
const PREFIX_OF_LEXEME = String.raw`'''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || ''':*'`;

/**
 * Images whose title or description has, for every word of `q`, a word starting with it (case and
 * accents aside). Both sides are split into words by Postgres's own parser (the `simple`
 * configuration: no stemming, no stop words), so a query word is what a stored word would have been;
 * the match is answered by the GIN index on the same expression (images_search_idx).
 */
export function matchesWords(q: string): SQL {
  // Postgres text cannot hold NUL; it is no letter, so it parts words as a space does.
  const words = fold(q).replaceAll('\u0000', ' ');
  return sql`to_tsvector('simple', ${images.searchTitle} || ' ' || ${images.searchDescription}) @@ (
    select to_tsquery('simple', coalesce(string_agg(${sql.raw(PREFIX_OF_LEXEME)}, ' & '), ''))
    from unnest(to_tsvector('simple', ${words})))`;
}
