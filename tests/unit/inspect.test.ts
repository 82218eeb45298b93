import { describe, expect, it } from 'vitest';
import { UnsupportedMediaTypeError } from '../../lib/errors';
import { UnreadableImageError } from '../../lib/images/errors';
import { cleanFilename } from '../../lib/images/filename';
import { detectImageType, inspectImage } from '../../lib/images/inspect';
import { contentDisposition } from '../../lib/storage';
import { GIF, makeJpeg, makePng } from '../../support/images';

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
