/** The displayable copies of an image: their names, and the longest side of each, in pixels. */
export const VARIANT_SIDES = { thumb: 400, display: 2048 } as const;
export type VariantName = keyof typeof VARIANT_SIDES;

/** Where an image's copies are stored: never under images/, the prefix whose new objects trigger processing. */
export const variantKey = (id: string, name: VariantName): string => `variants/${id}/${name}.webp`;

/** Every variant key of an image (for a deletion: whether they were made yet or not). */
export const variantKeys = (id: string): string[] => (Object.keys(VARIANT_SIDES) as VariantName[]).map((name) => variantKey(id, name));
