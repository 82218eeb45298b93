import { afterEach, describe, expect, it, vi } from 'vitest';
import { UnsupportedMediaTypeError } from '../../lib/errors';
import { TooManyPixelsError, UnreadableImageError } from '../../lib/images/errors';
import { cleanFilename } from '../../lib/images/filename';
import { detectImageType, inspectImage } from '../../lib/images/inspect';
import { contentDisposition } from '../../lib/storage';
import { GIF, makeJpeg, makePng } from '../../support/images';
import { gifOutgrowingItsScreen, gigapixelHeic, megapixelAvif } from '../helpers/image-bombs';
import { runsWith } from '../helpers/tools';

const jpg = { ext: 'jpg', mime: 'image/jpeg' };

describe('cleanFilename', () => {
  it.each([
    ['cat.jpg', 'cat.jpg'],
    ['/etc/passwd', 'passwd'],
    ['..\\..\\windows\\win.ini', 'win.ini'],
    ['C:\\Users\\me\\photo.jpg', 'photo.jpg'],
    ['a\u0000b\u001fc\u007f.jpg', 'abc.jpg'],
    ['evil\u202egpj.exe', 'evilgpj.exe'],
    ['  spaced.jpg  ', 'spaced.jpg'],
    ['котик 😺.jpg', 'котик 😺.jpg'],
    ['', 'upload.jpg'],
    ['../', 'upload.jpg'],
    ['..', 'upload.jpg'],
    [undefined, 'upload.jpg'],
  ])('%j → %j', (raw, expected) => {
    expect(cleanFilename(raw, jpg)).toBe(expected);
  });

  it('keeps at most 128 characters, counted as code points', () => {
    expect(cleanFilename(`${'😺'.repeat(300)}.jpg`, jpg)).toBe('😺'.repeat(128));
  });
});

describe('detectImageType', () => {
  it('reads the type from the bytes', async () => {
    expect(await detectImageType(makeJpeg())).toEqual(jpg);
    expect(await detectImageType(makePng())).toEqual({ ext: 'png', mime: 'image/png' });
    expect(await detectImageType(GIF)).toEqual({ ext: 'gif', mime: 'image/gif' });
  });

  it.each([
    ['text', Buffer.from('hello')],
    ['HTML', Buffer.from('<!doctype html><html><script>alert(1)</script></html>')],
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')],
    ['PDF', Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n')],
    ['a ZIP', Buffer.from('504b0304140000000000', 'hex')],
  ])('refuses %s with a 415', async (_, bytes) => {
    await expect(detectImageType(bytes)).rejects.toThrow(UnsupportedMediaTypeError);
  });
});

describe('contentDisposition', () => {
  it('is plain ASCII with the UTF-8 name in filename*', () => {
    expect(contentDisposition('cat.jpg')).toBe(`inline; filename="cat.jpg"; filename*=UTF-8''cat.jpg`);
    expect(contentDisposition('ко"т\r\n.jpg')).toBe(`inline; filename="______.jpg"; filename*=UTF-8''%D0%BA%D0%BE%22%D1%82%0D%0A.jpg`);
  });
});

describe('inspectImage', () => {
  /** A JPEG whose frame header (SOF0) says the height is 0: legal JPEG (a DNL marker may give it later). */
  const heightZero = () => {
    const jpeg = Buffer.from(makeJpeg(32, 24));
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(0, sof + 5);
    return jpeg;
  };

  it('reads type and size from the header', async () => {
    expect(await inspectImage(makeJpeg(32, 24))).toEqual({ ext: 'jpg', mime: 'image/jpeg', width: 32, height: 24 });
  });

  it('refuses a side of 0 pixels as unreadable (422), never a size of 0', async () => {
    await expect(inspectImage(heightZero())).rejects.toBeInstanceOf(UnreadableImageError);
  });
});

describe('inspectImage: MAX_IMAGE_PIXELS applies to the largest canvas a decoder would allocate', () => {
  const saved = process.env.MAX_IMAGE_PIXELS;
  afterEach(() => {
    if (saved === undefined) delete process.env.MAX_IMAGE_PIXELS;
    else process.env.MAX_IMAGE_PIXELS = saved;
    vi.resetModules();
  });

  /** The refusal inspectImage throws for `bytes`. */
  const refusal = (bytes: Uint8Array) =>
    inspectImage(bytes).then(
      () => expect.unreachable('accepted'),
      (err: unknown) => err,
    );

  it('refuses the 268 MP AVIF that displays as 400×300 (a clap-cropped grid) as too many pixels, naming its canvas', async () => {
    const err = await refusal(await megapixelAvif());
    expect(err).toBeInstanceOf(TooManyPixelsError);
    expect((err as TooManyPixelsError).errors).toEqual([
      {
        field: 'file',
        message: 'decodes to 16384×16384 pixels (its largest canvas, before any crop); at most 50000000 pixels are accepted',
      },
    ]);
  });

  it.runIf(runsWith('HEIC files (inspect.test.ts)', 'heif-enc'))(
    'refuses the 1-gigapixel HEIC that displays as 400×300, naming its canvas',
    async () => {
      const err = await refusal(await gigapixelHeic());
      expect(err).toBeInstanceOf(TooManyPixelsError);
      expect((err as TooManyPixelsError).errors).toEqual([
        {
          field: 'file',
          message: 'decodes to 32768×32768 pixels (its largest canvas, before any crop); at most 50000000 pixels are accepted',
        },
      ]);
    },
  );

  it('refuses a GIF whose first frame outgrows its 100×100 screen past the limit', async () => {
    vi.resetModules();
    process.env.MAX_IMAGE_PIXELS = '1000000';
    const limited = await import('../../lib/images/inspect');
    const gif = await gifOutgrowingItsScreen(1200, 1000, 100, 100);
    await expect(limited.inspectImage(gif)).rejects.toMatchObject({
      name: 'TooManyPixelsError',
      errors: [
        {
          field: 'file',
          message: 'decodes to 1200×1000 pixels (its largest canvas, before any crop); at most 1000000 pixels are accepted',
        },
      ],
    });
    expect(await limited.inspectImage(await gifOutgrowingItsScreen(1000, 1000, 100, 100))).toMatchObject({ width: 1000, height: 1000 });
  });
});
