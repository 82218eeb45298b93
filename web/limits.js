// The service's limits and accepted types, read from its own OpenAPI document (/openapi.json, open to
// anyone, generated from the schemas the API validates with): the page states none of them itself,
// so a changed limit or a new type reaches the page with the service. No DOM here: the unit tests
// feed it the document as the service builds it.

/** Filled by readLimits (main.js loads it before the first upload or form needs it). */
export const limits = {
  /** In code points, as the API counts. */
  titleMax: 0,
  descriptionMax: 0,
  albumTitleMax: 0,
  albumDescriptionMax: 0,
  shareTitleMax: 0,
  shareDescriptionMax: 0,
  passwordMin: 0,
  passwordMax: 0,
  /** The largest file POST /api/v1/uploads signs, in bytes. */
  uploadMax: 0,
  /** The accepted Content-Types, and the name people know each by ("JPEG"). */
  types: new Map(),
  /** The accepted types by file extension: each type's own subtype, and the other names files go by. */
  extensions: new Map(),
};

/**
 * Extensions files carry for a subtype other than the subtype itself. A fact about file names, not
 * about the service: only those whose subtype the service accepts are used.
 */
const OTHER_EXTENSIONS = new Map([
  ['jpeg', ['jpg', 'jpe', 'jfif']],
  ['heif', ['hif']],
]);

const number = (schema, keyword, where) => {
  const value = schema?.[keyword];
  if (typeof value !== 'number') throw new Error(`The service's OpenAPI document has no ${keyword} for ${where}`);
  return value;
};

/** Reads the limits out of an OpenAPI document into `limits`; throws when one is missing. */
export function readLimits(document) {
  const schemas = document?.components?.schemas ?? {};
  const field = (schema, name) => number(schemas[schema]?.properties?.[name], 'maxLength', `${schema}.${name}`);
  const upload = schemas.UploadRequest?.properties ?? {};
  const password = schemas.ShareCreate?.properties?.password;
  Object.assign(limits, {
    titleMax: field('UploadRequest', 'title'),
    descriptionMax: field('UploadRequest', 'description'),
    albumTitleMax: field('AlbumCreate', 'title'),
    albumDescriptionMax: field('AlbumCreate', 'description'),
    shareTitleMax: field('ShareCreate', 'title'),
    shareDescriptionMax: field('ShareCreate', 'description'),
    passwordMin: number(password, 'minLength', 'ShareCreate.password'),
    passwordMax: number(password, 'maxLength', 'ShareCreate.password'),
    uploadMax: number(upload.size, 'maximum', 'UploadRequest.size'),
  });
  const names = upload.content_type?.['x-type-names'] ?? {};
  const types = upload.content_type?.enum;
  if (!Array.isArray(types) || types.length === 0) throw new Error("The service's OpenAPI document lists no accepted types");
  limits.types = new Map(types.map((type) => [type, Object.hasOwn(names, type) ? names[type] : type]));
  limits.extensions = new Map();
  for (const type of types) {
    const subtype = type.split('/')[1];
    for (const ext of [subtype, ...(OTHER_EXTENSIONS.get(subtype) ?? [])])
      if (!limits.extensions.has(ext)) limits.extensions.set(ext, type);
  }
  return limits;
}

let loading = null;
/** Loads /openapi.json once and reads it (readLimits); resolves to `limits`. */
export function loadLimits() {
  loading ??= fetch('/openapi.json', { headers: { accept: 'application/json' } })
    .then((response) => {
      if (!response.ok) throw new Error(`The service's description could not be loaded (${response.status}).`);
      return response.json();
    })
    .then(readLimits)
    .catch((err) => {
      loading = null;
      throw err;
    });
  return loading;
}

/** "JPEG, PNG, WebP, GIF, AVIF, HEIC or HEIF": the accepted types' names, each once. */
export function acceptedNames() {
  const names = [...new Set(limits.types.values())];
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
}

/** The file input's `accept`: the types and their extensions (HEIC files often come with no type). */
export const acceptAttribute = () => [...limits.types.keys(), ...[...limits.extensions.keys()].map((ext) => `.${ext}`)].join(',');
