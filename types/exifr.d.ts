// exifr types its prebuilt bundles only. Its core and plugins, which its README offers for a bundle of
// one's own ("Advanced APIs"), hold the same Exifr class; a plugin module only registers itself.
declare module 'exifr/src/core.mjs' {
  import type { Exifr as BundledExifr } from 'exifr';

  export class Exifr {
    constructor(options?: ConstructorParameters<typeof BundledExifr>[0]);
    read(data: Uint8Array): Promise<void>;
    /** The tags read, by number when keys are not translated; undefined when none was. */
    parse(): Promise<Record<string, unknown> | undefined>;
  }
}

declare module 'exifr/src/file-parsers/tiff.mjs';
declare module 'exifr/src/segment-parsers/tiff-exif.mjs';
