/**
 * Production entry of a function: `node --import tsx shared/http/serve.ts <function-name>`.
 * Loads functions/<name>/index.ts (which registers its target), serves it with the
 * functions-framework server on PORT, and adds what the framework's CLI lacks: a JSON answer
 * for requests the framework's own body parsers reject (malformed JSON would otherwise get an
 * HTML page) and a graceful stop on SIGTERM (Knative scales to zero by sending it).
 */
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FUNCTION_NAMES, isFunctionName } from './functions.ts';

type ErrorMiddleware = (err: { status?: number; statusCode?: number; type?: string }, req: IncomingMessage, res: ServerResponse, next: () => void) => void;

// Four parameters: express recognises error middleware by its arity.
const jsonErrors: ErrorMiddleware = (err, _req, res, _next) => {
  const status = err.status ?? err.statusCode ?? 500;
  const message = status === 400 ? 'body is not valid JSON' : status === 413 ? 'body too large' : 'internal error';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ status, message }));
};

/** Starts function `name`; resolves with the server once it listens. */
export async function serveFunction(name: string, port = Number(process.env.PORT ?? 8080)) {
  if (!isFunctionName(name)) throw new Error(`unknown function '${name}' (one of ${FUNCTION_NAMES.join(', ')})`);
  await import(`../../functions/${name}/index.ts`);
  const server = getTestServer(name);
  // The express app is the server's request listener; an error middleware added last catches
  // body-parser failures before the framework's default HTML error page.
  const app = server.listeners('request')[0] as unknown as { use(mw: ErrorMiddleware): void };
  app.use(jsonErrors);
  await new Promise<void>((resolve) => server.listen(port, resolve));
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const name = process.argv[2] ?? process.env.FUNCTION_TARGET ?? '';
  serveFunction(name)
    .then((server) => {
      console.log(`${name} listening on ${process.env.PORT ?? 8080}`);
      process.on('SIGTERM', () => server.close(() => process.exit(0)));
    })
    .catch((err) => {
      console.error(`${name}: ${(err as Error).message}`);
      process.exit(1);
    });
}
