/**
 * The `Link` header of a page whose list goes on: the same path and query (limit, order, filters), with
 * the next page's cursor; no header on the last page.
 */
export function nextPageLink(
  path: string,
  query: Record<string, string | number | undefined>,
  next: string | undefined,
): Record<string, string> {
  if (next === undefined) return {};
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && name !== 'cursor') params.set(name, String(value));
  }
  params.set('cursor', next);
  return { link: `<${path}?${params}>; rel="next"` };
}
