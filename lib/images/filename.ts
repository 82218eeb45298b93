import { FILENAME_MAX } from '../schema';
import type { ImageType } from './types';

const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The client's file name cut to its last path segment, without control characters, at most FILENAME_MAX characters. */
export function cleanFilename(raw: string | undefined, type: ImageType): string {
  const lastSegment = (raw ?? '').split(/[/\\]/).pop() ?? '';
  const cleaned = lastSegment
    .replace(/\p{Cc}/gu, '')
    .replace(BIDI_CONTROLS, '')
    .trim();
  const cut = Array.from(cleaned).slice(0, FILENAME_MAX).join('');
  return cut === '' || cut === '.' || cut === '..' ? `upload.${type.ext}` : cut;
}
