// The order rules of a list of images, apart from its queries: the edge's validation reads them
// without loading the database client.

/** The orders a list is walked in: newest uploaded first, or newest taken first (those that say nothing last, newest uploaded first). */
export const SORTS = ['created', 'taken'] as const;
export type Sort = (typeof SORTS)[number];

/** A taken_sort as a cursor carries it: the recorded local time, sub-seconds as recorded. */
export const TAKEN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?$/;
