/**
 * readPhotoFacts on real files, all made here: sharp codes the JPEG, PNG, WebP, AVIF and GIF files,
 * heif-enc the HEIC, and exiftool writes the EXIF into them (into a GIF it writes XMP, GIF having no
 * place for EXIF). Values a camera would never write go in through exiftool's `#` (no conversion) or
 * `<=` (from a file); broken EXIF blocks are made by changing bytes of a JPEG exiftool wrote.
 */

import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PhotoFacts, readPhotoFacts } from '../../lib/variants/exif';
import { runsWith } from '../helpers/tools';

const run = promisify(execFile);

const MIME = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif', heic: 'image/heic' } as const;
type Ext = keyof typeof MIME;

const NOTHING: PhotoFacts = { taken_at: null, taken_local: null, camera: null, exposure: null };

/** What a camera writes, and what is read from it. */
const PHOTO_TAGS = [
  '-DateTimeOriginal=2025:07:14 18:03:11',
  '-OffsetTimeOriginal=+02:00',
  '-Make=Canon',
  '-Model=Canon EOS R5',
  '-LensModel=RF24-70mm F2.8 L IS USM',
  '-FNumber=2.8',
  '-ExposureTime=1/250',
  '-ISO=400',
  '-FocalLength=50',
];
const PHOTO_FACTS: PhotoFacts = {
  taken_at: '2025-07-14T18:03:11+02:00',
  taken_local: '2025-07-14T18:03:11',
  camera: { make: 'Canon', model: 'Canon EOS R5', lens: 'RF24-70mm F2.8 L IS USM' },
  exposure: { f_number: 2.8, exposure_time: 0.004, iso: 400, focal_length: 50 },
};
const GPS_TAGS = ['-GPSLatitude=48.858370', '-GPSLatitudeRef=N', '-GPSLongitude=2.294481', '-GPSLongitudeRef=E', '-GPSAltitude=35'];

/** A small picture as sharp codes it, with no metadata. */
function picture(ext: Exclude<Ext, 'heic'>): Promise<Buffer> {
  const image = sharp({ create: { width: 48, height: 32, channels: 3, background: '#3a6' } });
  return image.toFormat(ext === 'jpg' ? 'jpeg' : ext).toBuffer();
}

let dir: string;
let files = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exif-'));
});

/** A HEIC of the picture, coded by heif-enc, with no EXIF. */
async function heic(): Promise<Buffer> {
  const name = join(dir, `${files++}`);
  await writeFile(`${name}.png`, await picture('png'));
  await run('heif-enc', ['-q', '50', `${name}.png`, '-o', `${name}.heic`]);
  return readFile(`${name}.heic`);
}

/**
 * One exiftool for the whole file, given its commands on standard input (`-stay_open`): starting Perl
 * for each of some eighty commands took most of a minute. A command answers what exiftool printed; it
 * fails on a warning as on an error, as exiftool writes the tags it can and only warns of the others.
 */
function startExiftool() {
  const child = spawn('exiftool', ['-stay_open', 'True', '-@', '-']);
  const printed = { stdout: '', stderr: '' };
  let waiting: { resolve: (printed: string) => void; reject: (err: Error) => void } | undefined;
  /** Settles the command once both streams have its end: stdout its exit status and `{ready}`, stderr `{end}`. */
  const settle = () => {
    const status = /\{status (\d+)\}\n\{ready\}\n/.exec(printed.stdout);
    const end = printed.stderr.indexOf('{end}\n');
    if (!status || end < 0 || !waiting) return;
    const out = printed.stdout.slice(0, status.index);
    const err = printed.stderr.slice(0, end);
    printed.stdout = printed.stdout.slice(status.index + status[0].length);
    printed.stderr = printed.stderr.slice(end + '{end}\n'.length);
    if (status[1] === '0' && err === '') waiting.resolve(out);
    else waiting.reject(new Error(`exiftool (exit status ${status[1]}): ${out}${err}`));
    waiting = undefined;
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8').on('data', (chunk: string) => {
      printed[stream] += chunk;
      settle();
    });
  }
  // Not there, or gone: every command fails at once rather than waiting for its timeout.
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    waiting?.reject(failure);
    waiting = undefined;
  };
  child.on('error', fail);
  child.on('exit', (code) => fail(new Error(`exiftool exited (${code})`)));
  let last: Promise<unknown> = Promise.resolve();
  const command = (args: string[]): Promise<string> => {
    const answer = last.then(
      () =>
        new Promise<string>((resolve, reject) => {
          if (failure) return reject(failure);
          waiting = { resolve, reject };
          // One argument a line; only white space at the start of a line is dropped.
          // biome-ignore lint/suspicious/noTemplateCurlyInString: exiftool's placeholder for the command's exit status
          const end = ['-echo3', '{status ${status}}', '-echo4', '{end}', '-execute'];
          child.stdin.write(`${[...args, ...end].join('\n')}\n`);
        }),
    );
    last = answer.catch(() => undefined);
    return answer;
  };
  const stop = async () => {
    if (failure) return;
    const exited = once(child, 'exit');
    child.stdin.end('-stay_open\nFalse\n');
    await exited;
  };
  return { command, stop };
}
let exiftoolProcess: ReturnType<typeof startExiftool> | undefined;
const exiftoolCommand = (args: string[]) => {
  exiftoolProcess ??= startExiftool();
  return exiftoolProcess.command(args);
};
afterAll(async () => {
  await exiftoolProcess?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `file` with what exiftool writes given `args` ("-Tag=value"); exiftool's failure to write fails the test. */
async function exiftool(file: Buffer, ext: Ext, args: string[]): Promise<Buffer> {
  const path = join(dir, `${files++}.${ext}`);
  await writeFile(path, file);
  await exiftoolCommand(['-overwrite_original', ...args, path]);
  return readFile(path);
}

/** What exiftool reads of `tag` in `file`, as a number where it is one (`-n`). */
async function exiftoolReads(file: Buffer, ext: Ext, tag: string): Promise<string> {
  const path = join(dir, `${files++}.${ext}`);
  await writeFile(path, file);
  return (await exiftoolCommand(['-s3', '-n', `-${tag}`, path])).trim();
}

/** A JPEG with the tags exiftool writes given `args`. */
async function jpegWith(args: string[]): Promise<Buffer> {
  return exiftool(await picture('jpg'), 'jpg', args);
}

/** `file` with the one occurrence of `from` overwritten by `to`, as long: how values exiftool refuses get in. */
function replaced(file: Buffer, from: string, to: string): Buffer {
  const at = file.indexOf(from, 0, 'latin1');
  expect([at >= 0, file.indexOf(from, at + 1, 'latin1'), to.length]).toEqual([true, -1, from.length]);
  const copy = Buffer.from(file);
  copy.write(to, at, 'latin1');
  return copy;
}

/** A file holding `bytes`, for exiftool to write a tag from (`-Tag<=file`): how bytes no argument can carry get in. */
async function valueFile(bytes: Buffer): Promise<string> {
  const path = join(dir, `${files++}.bin`);
  await writeFile(path, bytes);
  return path;
}

describe('readPhotoFacts, without EXIF', () => {
  it.each(['jpg', 'png', 'webp', 'avif', 'gif'] as const)('all nulls for a %s with no metadata', async (ext) => {
    const file = await picture(ext);
    expect((await sharp(file).metadata()).exif).toBeUndefined();
    expect(await readPhotoFacts(file, MIME[ext])).toEqual(NOTHING);
  });

  it.each([
    ['no bytes', Buffer.alloc(0)],
    ['text', Buffer.from('not an image')],
    ['a JPEG cut after its first marker', Buffer.from('ffd8ffe1', 'hex')],
  ])('all nulls for %s', async (_, bytes) => {
    expect(await readPhotoFacts(bytes, 'image/jpeg')).toEqual(NOTHING);
  });
});

describe.runIf(runsWith('EXIF written by exiftool (exif.test.ts)', 'exiftool'))('readPhotoFacts, from EXIF exiftool wrote', () => {
  it.each(['jpg', 'png', 'webp', 'avif'] as const)('reads the time, camera and exposure from a %s', async (ext) => {
    const file = await exiftool(await picture(ext), ext, PHOTO_TAGS);
    expect(await readPhotoFacts(file, MIME[ext])).toEqual(PHOTO_FACTS);
  });

  it('all nulls for a GIF, whose metadata can only be XMP', async () => {
    const gif = await exiftool(await picture('gif'), 'gif', PHOTO_TAGS);
    expect(await exiftoolReads(gif, 'gif', 'XMP:Model')).toBe('Canon EOS R5');
    expect(await readPhotoFacts(gif, 'image/gif')).toEqual(NOTHING);
  });

  it('gives taken_at with the recorded offset, and without one the local time with no zone', async () => {
    expect(
      await readPhotoFacts(await jpegWith(['-DateTimeOriginal=2025:07:14 18:03:11', '-OffsetTimeOriginal=-03:30']), 'image/jpeg'),
    ).toEqual({
      ...NOTHING,
      taken_at: '2025-07-14T18:03:11-03:30',
      taken_local: '2025-07-14T18:03:11',
    });
    expect(await readPhotoFacts(await jpegWith(['-DateTimeOriginal=2025:07:14 18:03:11']), 'image/jpeg')).toEqual({
      ...NOTHING,
      taken_at: '2025-07-14T18:03:11',
      taken_local: '2025-07-14T18:03:11',
    });
  });

  it.each([
    ['123', '.123'],
    ['5', '.5'],
    ['000', '.000'],
    ['1234567', '.123456'],
    ['12a', ''],
    ['1.5', ''],
    ['   ', ''],
  ])('takes sub-seconds %j as %j: digits as recorded, up to microseconds', async (subSeconds, fraction) => {
    // exiftool writes only digits here: anything else is written over digits of the same length.
    const digits = /^\d+$/.test(subSeconds);
    const written = digits ? subSeconds : '864'.slice(0, subSeconds.length);
    const tags = ['-DateTimeOriginal=2024:02:29 23:59:59', '-OffsetTimeOriginal=+05:45', `-SubSecTimeOriginal=${written}`];
    const jpeg = digits ? await jpegWith(tags) : replaced(await jpegWith(tags), written, subSeconds);
    expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual({
      ...NOTHING,
      taken_at: `2024-02-29T23:59:59${fraction}+05:45`,
      taken_local: `2024-02-29T23:59:59${fraction}`,
    });
  });

  it.each([
    ['+02:00', '+02:00'],
    ['-12:00', '-12:00'],
    ['+14:00', '+14:00'],
    ['-14:00', '-14:00'],
    ['+12:45', '+12:45'],
    ['Z', 'Z'],
    ['+14:01', ''],
    ['+15:00', ''],
    ['-02:60', ''],
    ['+2:00', ''],
    ['+0200', ''],
    ['02:00', ''],
    ['   :  ', ''],
    ['junk', ''],
  ])('takes offset %j as %j (out of range or malformed: the local time)', async (recorded, offset) => {
    const jpeg = await jpegWith(['-DateTimeOriginal=2025:07:14 18:03:11', `-OffsetTimeOriginal#=${recorded}`]);
    expect((await readPhotoFacts(jpeg, 'image/jpeg')).taken_at).toBe(`2025-07-14T18:03:11${offset}`);
  });

  it.each([
    '2025:13:01 00:00:00',
    '0000:00:00 00:00:00',
    '2025:02:29 12:00:00',
    '1900:02:29 12:00:00',
    '2025:04:31 12:00:00',
    '2025:07:00 12:00:00',
    '2025:07:14 24:00:00',
    '2025:07:14 18:60:00',
    '2025:07:14 18:03:60',
    '    :  :     :  :  ',
    '2025-07-14 18:03:11',
    '2025:07:14T18:03:11',
    '2025:07:14',
    'junk',
  ])('taken_at null for the date %j, the rest still read', async (date) => {
    const jpeg = await jpegWith([`-DateTimeOriginal#=${date}`, '-OffsetTimeOriginal=+02:00', '-SubSecTimeOriginal=12', '-Make=Canon']);
    expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual({ ...NOTHING, camera: { make: 'Canon', model: null, lens: null } });
  });

  it('reads the dates that exist at the edges: leap days, the first and last second of a day', async () => {
    for (const [date, local] of [
      ['2000:02:29 00:00:00', '2000-02-29T00:00:00'],
      ['1904:02:29 23:59:59', '1904-02-29T23:59:59'],
      ['0001:01:01 00:00:00', '0001-01-01T00:00:00'],
      ['9999:12:31 23:59:59', '9999-12-31T23:59:59'],
    ]) {
      expect((await readPhotoFacts(await jpegWith([`-DateTimeOriginal#=${date}`]), 'image/jpeg')).taken_local).toBe(local);
    }
  });

  it('is the same whatever the time zone of the process', async () => {
    const jpeg = await jpegWith(['-DateTimeOriginal=2025:03:30 02:30:00', '-SubSecTimeOriginal=5']);
    const withOffset = await jpegWith(['-DateTimeOriginal=2025:03:30 02:30:00', '-OffsetTimeOriginal=+01:00']);
    const zone = process.env.TZ;
    const offsets = new Set<number>();
    try {
      // Chatham is +12:45/+13:45, St John's -03:30/-02:30; in Berlin 02:30 on 30 March 2025 did not exist.
      for (const tz of ['UTC', 'Pacific/Chatham', 'America/St_Johns', 'Europe/Berlin', 'Pacific/Kiritimati']) {
        process.env.TZ = tz;
        offsets.add(new Date(2025, 2, 30, 2, 30).getTimezoneOffset());
        expect(await readPhotoFacts(jpeg, 'image/jpeg')).toMatchObject({
          taken_at: '2025-03-30T02:30:00.5',
          taken_local: '2025-03-30T02:30:00.5',
        });
        expect(await readPhotoFacts(withOffset, 'image/jpeg')).toMatchObject({
          taken_at: '2025-03-30T02:30:00+01:00',
          taken_local: '2025-03-30T02:30:00',
        });
      }
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    expect(offsets.size).toBe(5); // the zones did apply to the process
  });

  it('cleans camera strings: control characters and NULs dropped, trimmed, at most 64 code points, empty as null', async () => {
    const jpeg = await jpegWith([
      `-Make<=${await valueFile(Buffer.from('\u0001  Can\0on\t\u007f  \u0001', 'latin1'))}`,
      `-Model=${'😺'.repeat(70)}`,
      '-LensModel=   ',
    ]);
    expect((await readPhotoFacts(jpeg, 'image/jpeg')).camera).toEqual({ make: 'Canon', model: '😺'.repeat(64), lens: null });
  });

  it('gives bytes that are not UTF-8 as U+FFFD, and keeps the camera as recorded otherwise', async () => {
    const jpeg = await jpegWith([
      `-Model<=${await valueFile(Buffer.from([0x43, 0x61, 0x66, 0xe9]))}`,
      '-Make=FUJIFILM',
      '-LensModel=XF23mmF1.4 R',
    ]);
    expect((await readPhotoFacts(jpeg, 'image/jpeg')).camera).toEqual({ make: 'FUJIFILM', model: 'Caf\uFFFD', lens: 'XF23mmF1.4 R' });
  });

  it('camera null when none of its members is known, exposure likewise', async () => {
    const facts = await readPhotoFacts(await jpegWith(['-Make=   ', '-FNumber=0', '-Software=sharp']), 'image/jpeg');
    expect(facts).toEqual(NOTHING);
  });

  it.each([
    [['-FNumber=1.4'], { f_number: 1.4 }],
    [['-FNumber=22'], { f_number: 22 }],
    [['-ExposureTime=1/8000'], { exposure_time: 0.000125 }],
    [['-ExposureTime=1/3'], { exposure_time: 0.333333 }],
    [['-ExposureTime=30'], { exposure_time: 30 }],
    [['-FocalLength=6.86'], { focal_length: 6.86 }],
    [['-FocalLength=600'], { focal_length: 600 }],
    [['-ISO=100'], { iso: 100 }],
    [['-ISO=65535'], { iso: 65535 }],
    [['-ISO=65535', '-SensitivityType#=2', '-RecommendedExposureIndex=204800'], { iso: 204800 }],
    [['-ISO=65535', '-SensitivityType#=3', '-ISOSpeed=409600'], { iso: 409600 }],
    [['-ISO=3200', '-RecommendedExposureIndex=204800'], { iso: 3200 }],
  ])('reads %j as %j', async (args, read) => {
    const facts = await readPhotoFacts(await jpegWith(args), 'image/jpeg');
    expect(facts.exposure).toEqual({ f_number: null, exposure_time: null, iso: null, focal_length: null, ...read });
  });

  it.each([
    ['-FNumber=0'],
    ['-FNumber#=0.1'],
    ['-FNumber=4000'],
    ['-ExposureTime=0'],
    ['-ExposureTime#=1/0'],
    ['-ExposureTime#=1/10000000'],
    ['-ExposureTime=100000'],
    ['-FocalLength=0'],
    ['-FocalLength=100000'],
    ['-ISO=0'],
  ])('exposure null for %j (zero, infinite or absurd)', async (arg) => {
    expect((await readPhotoFacts(await jpegWith([arg, '-Make=Canon']), 'image/jpeg')).exposure).toBeNull();
  });

  it('never returns GPS, from a file that has it', async () => {
    const jpeg = await jpegWith([...PHOTO_TAGS, ...GPS_TAGS]);
    expect(await exiftoolReads(jpeg, 'jpg', 'GPSLatitude')).toBe('48.85837');
    const facts = await readPhotoFacts(jpeg, 'image/jpeg');
    expect(facts).toStrictEqual(PHOTO_FACTS);
    expect(JSON.stringify(facts)).not.toMatch(/48\.8|2\.29|gps|latitude/i);
  });

  describe('a broken EXIF block: nulls for what it cannot give, never a failure', () => {
    /** A JPEG exiftool wrote, with the offsets of its TIFF header and IFD0, and its numbers in its byte order. */
    async function broken() {
      const jpeg = await jpegWith(PHOTO_TAGS);
      const tiff = jpeg.indexOf('Exif\0\0') + 6;
      const le = jpeg.toString('latin1', tiff, tiff + 2) === 'II';
      const u16 = (at: number) => (le ? jpeg.readUInt16LE(at) : jpeg.readUInt16BE(at));
      const u32 = (at: number) => (le ? jpeg.readUInt32LE(at) : jpeg.readUInt32BE(at));
      const setU32 = (at: number, value: number) => (le ? jpeg.writeUInt32LE(value, at) : jpeg.writeUInt32BE(value, at));
      const ifd0 = tiff + u32(tiff + 4);
      /** Where a tag's 12-byte entry in IFD0 is. */
      const entry = (tag: number) => {
        for (let i = 0; i < u16(ifd0); i++) if (u16(ifd0 + 2 + i * 12) === tag) return ifd0 + 2 + i * 12;
        throw new Error(`no tag ${tag} in IFD0`);
      };
      expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual(PHOTO_FACTS);
      return { jpeg, tiff, ifd0, entry, setU32 };
    }
    const camera = { make: 'Canon', model: 'Canon EOS R5', lens: null };

    it('IFD0 outside the block: all nulls', async () => {
      const { jpeg, tiff, setU32 } = await broken();
      setU32(tiff + 4, 0xfffff000);
      expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual(NOTHING);
    });

    it('a value that runs past the end of the block (Make, 100000 bytes long): all nulls', async () => {
      const { jpeg, entry, setU32 } = await broken();
      setU32(entry(0x010f) + 4, 100_000);
      expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual(NOTHING);
    });

    it('the Exif IFD outside the block: only what IFD0 holds', async () => {
      const { jpeg, entry, setU32 } = await broken();
      setU32(entry(0x8769) + 8, 0xfffff000);
      expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual({ ...NOTHING, camera });
    });

    it('the Exif IFD pointing back at IFD0 (a loop): only what IFD0 holds', async () => {
      const { jpeg, tiff, ifd0, entry, setU32 } = await broken();
      setU32(entry(0x8769) + 8, ifd0 - tiff);
      expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual({ ...NOTHING, camera });
    });

    it('no TIFF byte order: all nulls', async () => {
      const { jpeg, tiff } = await broken();
      jpeg.write('XX', tiff, 'latin1');
      expect(await readPhotoFacts(jpeg, 'image/jpeg')).toEqual(NOTHING);
    });

    it('an APP1 segment cut short inside the block, the JPEG going on after it: all nulls', async () => {
      const { jpeg, tiff } = await broken();
      const app1 = tiff - 10; // FF E1, the length, "Exif\0\0"
      const kept = 2 + 6 + 40; // the length counts itself; the header, then 40 bytes of TIFF
      const length = Buffer.alloc(2);
      length.writeUInt16BE(kept);
      const cut = Buffer.concat([
        jpeg.subarray(0, app1 + 2),
        length,
        jpeg.subarray(app1 + 4, app1 + 2 + kept),
        jpeg.subarray(app1 + 2 + jpeg.readUInt16BE(app1 + 2)),
      ]);
      expect((await sharp(cut).metadata()).exif?.length).toBe(6 + 40);
      expect(await readPhotoFacts(cut, 'image/jpeg')).toEqual(NOTHING);
    });

    it('a file that ends inside its APP1 segment: all nulls', async () => {
      const { jpeg, tiff } = await broken();
      expect(await readPhotoFacts(jpeg.subarray(0, tiff + 40), 'image/jpeg')).toEqual(NOTHING);
    });
  });

  describe.runIf(runsWith('HEIC files (exif.test.ts)', 'heif-enc'))('HEIC (heif-enc)', () => {
    it('reads the EXIF exiftool wrote into a HEIC, never its GPS', async () => {
      const file = await exiftool(await heic(), 'heic', [...PHOTO_TAGS, ...GPS_TAGS]);
      expect(await readPhotoFacts(file, 'image/heic')).toStrictEqual(PHOTO_FACTS);
    });

    it('all nulls for a HEIC without EXIF', async () => {
      const file = await heic();
      expect((await sharp(file).metadata()).exif).toBeUndefined();
      expect(await readPhotoFacts(file, 'image/heic')).toEqual(NOTHING);
    });
  });
});
