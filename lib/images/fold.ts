/** Letters no Unicode decomposition takes apart, spelled as a search would type them. */
const UNDECOMPOSED: Record<string, string> = {
  ß: 'ss',
  ẞ: 'ss',
  æ: 'ae',
  Æ: 'ae',
  œ: 'oe',
  Œ: 'oe',
  ø: 'o',
  Ø: 'o',
  ł: 'l',
  Ł: 'l',
  đ: 'd',
  Đ: 'd',
  ð: 'd',
  Ð: 'd',
  þ: 'th',
  Þ: 'th',
  ı: 'i',
};
const UNDECOMPOSED_LETTERS = new RegExp(`[${Object.keys(UNDECOMPOSED).join('')}]`, 'g');

/**
 * Text as search compares it: compatibility-decomposed (ligatures and full-width forms apart), every
 * combining mark removed (so "Café" is "cafe"), the letters without a decomposition spelled out, in
 * lower case. Done here rather than by the database, so that matching depends on neither its locale
 * nor the unaccent extension; what is stored and what is asked for are folded by this one function.
 */
export function fold(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(UNDECOMPOSED_LETTERS, (c) => UNDECOMPOSED[c] ?? c)
    .toLowerCase();
}

/** The stored search columns of a title and a description. */
export const searchColumns = (fields: { title?: string | undefined; description?: string | undefined }) => ({
  ...(fields.title !== undefined ? { searchTitle: fold(fields.title) } : {}),
  ...(fields.description !== undefined ? { searchDescription: fold(fields.description) } : {}),
});

/** Whether a query has a word to look for: a letter or a digit (folding keeps every one). */
export const hasWord = (q: string): boolean => /[\p{L}\p{N}]/u.test(q);
