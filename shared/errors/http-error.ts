/**
 * The few error classes of the system. Edge handlers convert them to HTTP in one place
 * (`toHttpResponse`); nothing in the middle catches and logs.
 */

/** An error with an HTTP status whose message is safe to show to the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.details = options?.details;
  }
  readonly details: unknown;
}

/** Input that failed validation at an edge (becomes 400 unless a status is given). */
export class ValidationError extends HttpError {
  constructor(message: string, details?: unknown, status = 400) {
    super(status, message, { details });
    this.name = 'ValidationError';
  }
}

/** A configuration value is missing or invalid; names the variable. Entry points print it and exit 1. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

/**
 * The JSON body and status for any thrown value. Unknown errors become a 500 with a generic
 * message: stack traces and internal messages never reach users.
 */
export function toHttpResponse(err: unknown): { status: number; body: { status: number; message: string; details?: unknown } } {
  if (err instanceof HttpError) {
    const body: { status: number; message: string; details?: unknown } = { status: err.status, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    return { status: err.status, body };
  }
  return { status: 500, body: { status: 500, message: 'internal error' } };
}
