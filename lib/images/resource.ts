import type { output } from 'zod';
import { int, iso, number, strictObject, string, url, uuid, enum as zEnum } from 'zod';
import { DESCRIPTION_MAX, FILE_URL_MAX, FILENAME_MAX, PROCESSING_STATES, TAKEN_AT_MAX, TITLE_MAX } from '../schema';
import { DECLARABLE_TYPES } from './types';

// The image resource: what the domain returns and the API answers, as a type for the code and a
// zod schema for the OpenAPI document (only the document builds the schema: no handler's cold start
// pays for it).

/** An image as the API returns it: the document's example, and the tests' sample. */
export const IMAGE_EXAMPLE = {
  id: '530918e4-2d9a-49a7-931e-fb5e18228cc1',
  title: 'My title',
  description: 'Short desc',
  filename: 'cat.jpg',
  file_url: 'http://127.0.0.1:4569/photo-gallery/images/530918e4-2d9a-49a7-931e-fb5e18228cc1.jpg',
  created_at: '2026-11-26T18:34:11.098123+00:00',
  updated_at: '2026-11-26T18:34:11.098123+00:00',
  content_type: 'image/jpeg',
  size: 2483117,
  width: 3024,
  height: 4032,
  sha256: '3f0a8c1d9e4b7a2f6c5d8e9b0a1f2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091',
  variants: {
    thumb: { url: 'http://127.0.0.1:4569/photo-gallery/variants/530918e4-2d9a-49a7-931e-fb5e18228cc1/thumb.webp', width: 300, height: 400 },
    display: {
      url: 'http://127.0.0.1:4569/photo-gallery/variants/530918e4-2d9a-49a7-931e-fb5e18228cc1/display.webp',
      width: 1536,
      height: 2048,
    },
  },
  processing: 'ready',
  taken_at: '2025-07-14T18:03:11+02:00',
  camera: { make: 'Apple', model: 'iPhone 15 Pro', lens: 'iPhone 15 Pro back triple camera 6.86mm f/1.78' },
  exposure: { f_number: 1.78, exposure_time: 0.008333, iso: 80, focal_length: 6.86 },
};

/** A displayable copy: where it is and the size it displays at (never larger than the original). */
const variantSchema = (description: string) =>
  strictObject({ url: url(), width: int().min(1), height: int().min(1) }).meta({ description });

const ISO_TIMESTAMP = iso.datetime({ offset: true, precision: 6 });

/** The image resource as the API returns it. */
export const imageSchema = strictObject({
  id: uuid(),
  title: string().meta({ minLength: 1, maxLength: TITLE_MAX }),
  description: string().meta({ maxLength: DESCRIPTION_MAX }),
  filename: string().meta({ maxLength: FILENAME_MAX, description: "The client's file name, cut to its last path segment" }),
  file_url: url().meta({ maxLength: FILE_URL_MAX, description: 'Where the file is fetched from' }),
  created_at: ISO_TIMESTAMP,
  updated_at: ISO_TIMESTAMP.meta({ description: 'Moves forward on every update' }),
  content_type: zEnum(DECLARABLE_TYPES as [string, ...string[]])
    .nullable()
    .meta({ description: 'The type detected from the bytes (null only for an image older than this field, until backfilled)' }),
  size: int().min(1).nullable().meta({ description: 'The file size in bytes' }),
  width: int().min(1).nullable().meta({ description: 'Width in pixels as displayed (after the EXIF orientation or HEIF rotation)' }),
  height: int().min(1).nullable().meta({ description: 'Height in pixels as displayed' }),
  sha256: string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .meta({ description: "The SHA-256 of the file's bytes, hex" }),
  variants: strictObject({ thumb: variantSchema('longest side 400'), display: variantSchema('longest side 2048') })
    .nullable()
    .meta({ description: 'Displayable WebP copies, upright, without EXIF, XMP or GPS; null until they are made' }),
  processing: zEnum(PROCESSING_STATES).meta({
    description: 'pending until the copies are made, then ready; failed when the file cannot be decoded',
  }),
  taken_at: string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$/)
    .nullable()
    .meta({
      maxLength: TAKEN_AT_MAX,
      description:
        'When the photo was taken, from its EXIF DateTimeOriginal: RFC 3339 with the offset the file records (OffsetTimeOriginal), or the local time as recorded, without a zone, when it records none; null when the file says nothing, and until it is processed',
    }),
  camera: strictObject({
    make: string().nullable(),
    model: string().nullable(),
    lens: string().nullable(),
  })
    .nullable()
    .meta({
      description:
        'The camera and lens the file names (EXIF Make, Model, LensModel); null when it names none. GPS is never stored or returned',
    }),
  exposure: strictObject({
    f_number: number().positive().nullable(),
    exposure_time: number().positive().nullable().meta({ description: 'In seconds' }),
    iso: int().positive().nullable(),
    focal_length: number().positive().nullable().meta({ description: 'In millimetres' }),
  })
    .nullable()
    .meta({ description: 'How the photo was exposed, as the file records it; null when it records none of it' }),
}).meta({
  id: 'Image',
  examples: [IMAGE_EXAMPLE],
});
export type Image = output<typeof imageSchema>;
