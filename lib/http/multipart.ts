import { uploadConfig } from '../config';
import { BadRequestError, PayloadTooLargeError } from '../errors';
import { type HttpEvent, header } from './handler';

// Checked at import: a bad MAX_UPLOAD_BYTES fails the cold start.
uploadConfig();

// A multipart/form-data parser over the whole body, synchronous. API Gateway hands a Lambda the body
// in one piece, so a streaming parser (busboy, under @middy/http-multipart-body-parser) buys nothing
// and brings event-handler code paths whose errors escape the request: a part without a name, a body
// cut off inside a part and a repeated `name[]` field each crashed the process, and a part whose
// headers never end hung it until the function timed out. Here every malformed body is a thrown
// 400/413 inside the request, found in one linear pass over the bytes.

/** A file part: the client's name and declared type (neither trusted) and the bytes. */
export interface FilePart {
  filename: string;
  mimetype: string | undefined;
  content: Buffer;
}

export type FormValue = string | FilePart;
/** The parts of a form by name; a name sent more than once has all its values, in order. */
export type Form = Record<string, FormValue | FormValue[]>;

/** More parts than any valid upload has, with room to name the unknown ones in a 422. */
export const MAX_PARTS = 16;
/** A part's header section: a Content-Disposition and a Content-Type fit many times over. */
export const MAX_PART_HEADER_BYTES = 8 * 1024;

/** The 413 of a multipart upload: its limit, and where a larger file goes. */
export const multipartTooLarge = (limit: number) =>
  new PayloadTooLargeError(limit, 'Larger files go straight to the store: POST /api/v1/uploads (see /docs).');

const NOT_MULTIPART = 'The body must be multipart/form-data with the fields title, description and file.';
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

const malformed = (detail: string) => new BadRequestError(`The multipart body is malformed: ${detail}.`);

/** A header value's type and parameters (`form-data; name="a"`); undefined when it is malformed. */
export function parseHeaderValue(value: string): { type: string; params: Map<string, string> } | undefined {
  const n = value.length;
  let i = value.indexOf(';');
  if (i < 0) i = n;
  const type = value.slice(0, i).trim().toLowerCase();
  const params = new Map<string, string>();
  const skipSpace = () => {
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && TCHAR.test(value[i] ?? '')) i++;
    return value.slice(start, i);
  };
  while (i < n) {
    if (value[i] !== ';') return undefined;
    i++;
    skipSpace();
    if (i === n) break; // a trailing ";" is harmless
    const name = token().toLowerCase();
    if (name === '' || value[i] !== '=') return undefined;
    i++;
    let param: string;
    if (value[i] === '"') {
      i++;
      param = '';
      for (;;) {
        if (i >= n) return undefined;
        const c = value[i++] as string;
        if (c === '"') break;
        // Only \" and \\ are escapes (as busboy reads them): a Windows path keeps its backslashes.
        if (c === '\\' && (value[i] === '"' || value[i] === '\\')) param += value[i++];
        else param += c;
      }
    } else {
      param = token();
      if (param === '') return undefined;
    }
    if (params.has(name)) return undefined; // a repeated parameter is ambiguous
    params.set(name, param);
    skipSpace();
  }
  return { type, params };
}

/** RFC 5987 `charset'language'percent-encoded`, as some clients send `filename*`. */
function extendedValue(value: string): string | undefined {
  const match = /^(utf-8|iso-8859-1)'[^']*'((?:%[0-9A-Fa-f]{2}|[!#$&+\-.^_`|~0-9A-Za-z])*)$/i.exec(value);
  if (!match) return undefined;
  const bytes = Buffer.from(
    (match[2] ?? '').replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );
  if (match[1]?.toLowerCase() === 'iso-8859-1') return bytes.toString('latin1');
  return decodeUtf8(bytes);
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

interface Part {
  name: string;
  filename: string | undefined;
  mimetype: string | undefined;
  content: Buffer;
}

/** Reads one part's header section: its form field name, file name and declared type. */
function partHeaders(raw: Buffer): Omit<Part, 'content'> {
  const text = decodeUtf8(raw);
  if (text === undefined) throw malformed('a part header is not valid UTF-8');
  const headers = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    if (name === '' || ![...name].every((c) => TCHAR.test(c))) throw malformed('a part header has no name');
    if (headers.has(name)) throw malformed(`a part repeats its ${name} header`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  const disposition = parseHeaderValue(headers.get('content-disposition') ?? '');
  if (disposition?.type !== 'form-data') {
    throw malformed('every part needs a Content-Disposition: form-data header');
  }
  const name = disposition.params.get('name');
  if (name === undefined) throw malformed('a part has no name');
  const extended = disposition.params.get('filename*');
  let filename = disposition.params.get('filename');
  if (extended !== undefined) {
    filename = extendedValue(extended);
    if (filename === undefined) throw malformed('a part has an unreadable filename*');
  }
  const type = headers.get('content-type');
  return { name, filename, mimetype: type === undefined ? undefined : parseHeaderValue(type)?.type };
}

/**
 * Splits a multipart/form-data body into its parts (RFC 7578, RFC 2046 §5.1.1). Throws
 * BadRequestError (400) for anything malformed: no opening or closing delimiter, a part without
 * headers, a name or a Content-Disposition, headers that never end, more than MAX_PARTS parts.
 */
export function splitParts(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  // The first delimiter may open the body (no CRLF before it) or follow a preamble.
  let at = body.subarray(0, delimiter.length - 2).equals(delimiter.subarray(2)) ? delimiter.length - 2 : -1;
  if (at < 0) {
    const found = body.indexOf(delimiter);
    if (found < 0) throw malformed('it does not contain its boundary');
    at = found + delimiter.length;
  }
  const parts: Part[] = [];
  for (;;) {
    // After a delimiter: "--" closes the body, else optional padding and CRLF open a part.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts;
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) throw malformed('a boundary line is not followed by CRLF');
    at += 2;
    if (parts.length === MAX_PARTS) throw malformed(`it has more than ${MAX_PARTS} parts`);
    const window = body.subarray(at, at + MAX_PART_HEADER_BYTES + 4);
    const headerEnd = body[at] === 0x0d && body[at + 1] === 0x0a ? at : at + window.indexOf('\r\n\r\n', 0, 'latin1');
    if (headerEnd < at) throw malformed("a part's headers do not end with an empty line");
    const headers = partHeaders(body.subarray(at, headerEnd));
    const contentStart = headerEnd + (headerEnd === at ? 2 : 4);
    const next = body.indexOf(delimiter, contentStart);
    if (next < 0) throw malformed('it ends inside a part, before the closing boundary');
    parts.push({ ...headers, content: body.subarray(contentStart, next) });
    at = next + delimiter.length;
  }
}

/** The boundary of a multipart/form-data Content-Type; undefined when it is not one. */
function boundaryOf(contentType: string): string | undefined {
  const parsed = parseHeaderValue(contentType);
  if (parsed?.type !== 'multipart/form-data') return undefined;
  const boundary = parsed.params.get('boundary');
  return boundary !== undefined && BOUNDARY.test(boundary) ? boundary : undefined;
}

/**
 * The request's multipart/form-data body as a Form, under MAX_UPLOAD_BYTES. Throws BadRequestError
 * (400) when it is not multipart, malformed or not UTF-8 text in a field, PayloadTooLargeError (413)
 * when a file, or the body, is over the limit.
 */
export function readMultipartForm(event: HttpEvent): Form {
  const limit = uploadConfig().MAX_UPLOAD_BYTES;
  const boundary = boundaryOf(header(event, 'content-type') ?? '');
  if (boundary === undefined) throw new BadRequestError(NOT_MULTIPART);
  if (!event.body) throw new BadRequestError('The multipart body is empty.');
  // A body far beyond the limit is refused before it is decoded (UTF-8 takes a byte or more a character).
  const maxBodyBytes = limit + 64 * 1024;
  const maxEncoded = event.isBase64Encoded ? Math.ceil((maxBodyBytes * 4) / 3) + 4 : maxBodyBytes;
  if (event.body.length > maxEncoded) throw multipartTooLarge(limit);
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (body.byteLength > maxBodyBytes) throw multipartTooLarge(limit);

  const form: Form = Object.create(null) as Form;
  for (const part of splitParts(body, boundary)) {
    let value: FormValue;
    if (part.filename !== undefined) {
      if (part.content.byteLength > limit) throw multipartTooLarge(limit);
      value = { filename: part.filename, mimetype: part.mimetype, content: part.content };
    } else {
      const text = decodeUtf8(part.content);
      if (text === undefined) throw new BadRequestError(`The field ${JSON.stringify(part.name)} is not valid UTF-8 text.`);
      value = text;
    }
    const seen = form[part.name];
    form[part.name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return form;
}
