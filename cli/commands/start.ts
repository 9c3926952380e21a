/**
 * `estafette start [--demo] [--executor host|docker]`: the whole system in one process on this
 * machine — the five functions over HTTP on PORT (default 8080), the web UI, the event delivery
 * loop, a cron timer — with an embedded PostgreSQL unless DATABASE_URL is set and an in-memory bus
 * unless NATS_URL is set. Ctrl-C cancels running builds and stops everything.
 */
import { parseArgs } from 'node:util';
import { isDebug, parseCliSettings, parseLogLevel } from '../../shared/config/config.ts';
import { createLogger } from '../../shared/log/logger.ts';
import { prettyDestination } from '../../shared/log/pretty.ts';
import { startSystem } from '../start/system.ts';
import { ensureDemoRepo } from '../start/demo.ts';
import { triggerRepo } from '../start/trigger.ts';

export const summary = 'run the whole system on this machine (add --demo for a sample pipeline)';
export const usage = 'estafette start [--demo] [--executor host|docker]';

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { demo: { type: 'boolean' }, executor: { type: 'string' } } });
  } catch (err) {
    process.stderr.write(`estafette start: ${(err as Error).message}\nusage: ${usage}\n`);
    return 2;
  }
  const executor = parsed.values.executor ?? parseCliSettings().executor ?? 'host';
  if (executor !== 'host' && executor !== 'docker') {
    process.stderr.write(`estafette start: --executor must be host or docker\n`);
    return 2;
  }
  let system;
  try {
    // JSON lines when the output goes to a file or another program; readable ones on a terminal.
    const log = createLogger({ level: parseLogLevel(), ...(process.stdout.isTTY ? { destination: prettyDestination() } : {}) });
    system = await startSystem({ executor, log });
  } catch (err) {
    process.stderr.write(`estafette start: ${(err as Error).message}\n`);
    if (isDebug()) console.error(err);
    return 1;
  }
  const u = system.url;
  process.stdout.write(
    [
      `estafette: running at ${u}`,
      `  web UI         ${u}/`,
      `  API            ${u}/api/pipelines`,
      `  webhooks       ${u}/api/integrations/{github,bitbucket,gitlab,gitea,generic}/events`,
      `  webhook token  ${system.webhookToken}   (generic webhook: Authorization: Bearer <token>)`,
      `  database       ${system.databaseDescription}`,
      `  bus            ${system.busDescription}`,
      `  executor       ${executor}`,
      `  build a repo   ESTAFETTE_URL=${u} ESTAFETTE_WEBHOOK_TOKEN=${system.webhookToken} npx estafette trigger <dir>`,
      '',
    ].join('\n'),
  );

  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`estafette: ${signal}, canceling running builds and stopping…\n`);
      system
        .stop()
        .catch((err) => process.stderr.write(`estafette: stop failed: ${(err as Error).message}\n`))
        .finally(() => {
          process.stdout.write('estafette: stopped\n');
          resolve();
        });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

  if (parsed.values.demo) {
    try {
      const dir = ensureDemoRepo(system.stateDir);
      const r = await triggerRepo(u, system.webhookToken, dir, 'main');
      process.stdout.write(`estafette: demo pipeline ${r.repository} triggered (event ${r.eventId}); watch it at ${u}/\n`);
    } catch (err) {
      process.stderr.write(`estafette: demo failed: ${(err as Error).message}\n`);
    }
  }
  await stopped;
  return 0;
}
