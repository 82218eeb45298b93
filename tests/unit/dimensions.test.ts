/**
 * The displayed size of an image from its first bytes, checked against files whose displayed size
 * a real decoder (libheif, sharp) confirmed: tests/fixtures/images/README.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CorruptHeaderError, displayedSize } from '../../lib/images/dimensions';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/images/${name}`, import.meta.url));

const DISPLAYED: [string, number, number][] = [
  ['plain.png', 400, 300],
  ['plain.jpg', 400, 300],
  ['exif1.jpg', 400, 300],
  ['exif2.jpg', 400, 300],
  ['exif3.jpg', 400, 300],
  ['exif4.jpg', 400, 300],
  ['exif5.jpg', 300, 400],
  ['exif6.jpg', 300, 400],
  ['exif7.jpg', 300, 400],
  ['exif8.jpg', 300, 400],
  ['exif6-be.jpg', 300, 400],
  ['exif6-ifd32.jpg', 300, 400],
  ['exif6-big.jpg', 300, 400],
  ['plain.heic', 400, 300],
  ['thumb.heic', 400, 300],
  ['exif6.heic', 400, 300],
  ['irot90.heic', 300, 400],
  ['irot180.heic', 400, 300],
  ['irot270-imir.heic', 300, 400],
  ['imir.heic', 400, 300],
  ['grid.heic', 400, 300],
  ['grid-irot90.heic', 300, 400],
  ['clap.heic', 300, 200],
  ['clap-irot90.heic', 200, 300],
  ['primary2.heic', 400, 300],
  ['plain.avif', 400, 300],
  ['exif6.avif', 400, 300],
  ['irot90.avif', 300, 400],
];

describe('displayedSize', () => {
  it.each(DISPLAYED)('%s displays as %i×%i', (name, width, height) => {
    expect(displayedSize(fixture(name))).toMatchObject({ width, height });
  });

  it.each(DISPLAYED.map(([name]) => name))('%s cut short anywhere says "read more" or the right size, never a wrong one', (name) => {
    const bytes = fixture(name);
    const whole = displayedSize(bytes);
    for (let n = 0; n < Math.min(bytes.length, 4096); n++) {
      // A copy: a view would let a reader see past its end into the rest of the file.
      const size = displayedSize(new Uint8Array(bytes.subarray(0, n)));
      if (size !== undefined) expect(size).toEqual(whole);
    }
  });

  it('reads the EXIF orientation even behind a 60 KB segment, from the first 64 KiB', () => {
    const bytes = fixture('exif6-big.jpg');
    expect(displayedSize(bytes.subarray(0, 64 * 1024))).toMatchObject({ width: 300, height: 400 });
  });

  it('calls a HEIF whose boxes lie about their length corrupt, not readable later', () => {
    const bytes = Buffer.from(fixture('irot90.heic'));
    // The ipco box claims fewer bytes than its own header.
    const at = bytes.indexOf('ipco', 0, 'latin1') - 4;
    bytes.writeUInt32BE(4, at);
    expect(() => displayedSize(bytes)).toThrow(CorruptHeaderError);
  });
});
