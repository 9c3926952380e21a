/**
 * Errors the query modules raise for callers to act on; both are HttpErrors so an edge
 * handler turns them into 404 / 409 without extra mapping.
 */
import { HttpError } from '../errors/http-error.ts';

/** The row addressed does not exist. */
export class NotFoundError extends HttpError {
  constructor(what: string) {
    super(404, `${what} not found`);
    this.name = 'NotFoundError';
  }
}

/** A status change not allowed by shared/status/status.ts; nothing was changed. */
export class IllegalTransitionError extends HttpError {
  constructor(
    readonly what: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(409, `${what} cannot go from ${from} to ${to}`, { details: { from, to } });
    this.name = 'IllegalTransitionError';
  }
}
