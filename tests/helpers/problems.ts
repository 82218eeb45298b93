import { STATUS_CODES } from 'node:http';

/** The problem+json body the API answers with for `status`. */
export const problem = (status: number, detail: string, errors?: { field: string; message: string }[]) => ({
  type: 'about:blank',
  title: STATUS_CODES[status],
  status,
  detail,
  ...(errors ? { errors } : {}),
});

/** A 422 listing the fields that are wrong. */
export const invalid = (errors: { field: string; message: string }[]) => problem(422, 'The request is not valid.', errors);
