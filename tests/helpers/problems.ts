/** The reason phrases the API's problems carry, written out (not computed as the service does). */
const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  410: 'Gone',
  429: 'Too Many Requests',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The problem+json body the API answers with for `status`. */
export const problem = (status: number, detail: string, errors?: { field: string; message: string }[]) => ({
  type: 'about:blank',
  title: TITLES[status],
  status,
  detail,
  ...(errors ? { errors } : {}),
});

/** A 422 listing the fields that are wrong. */
export const invalid = (errors: { field: string; message: string }[]) => problem(422, 'The request is not valid.', errors);

/** The 422 for an image whose largest canvas is width × height, above the default MAX_IMAGE_PIXELS. */
export const tooManyPixels = (width: number, height: number) =>
  problem(
    422,
    `The image decodes to ${width}×${height} pixels, more than the 50000000 accepted: the limit counts the largest canvas a decoder allocates, before any crop or rotation.`,
    [
      {
        field: 'file',
        message: `decodes to ${width}×${height} pixels (its largest canvas, before any crop); at most 50000000 pixels are accepted`,
      },
    ],
  );
