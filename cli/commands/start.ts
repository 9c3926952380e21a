/**
 * `estafette start [--demo] [--executor host|docker]`: the whole system in one process on this
 * machine — the five functions over HTTP on PORT (default 8080), the web UI, the event delivery
 * loop, a cron timer — with an embedded PostgreSQL unless DATABASE_URL is set and an in-memory bus
 * unless NATS_URL is set. Ctrl-C cancels running builds and stops everything.
 */
import { isDebug, parseCliConfig, parseLogLevel, userStateDir } from '../../shared/config/config.ts';
import { createLogger } from '../../shared/log/logger.ts';
import { prettyDestination } from '../../shared/log/pretty.ts';
import { EXECUTOR_NAMES } from '../../shared/plan/builder-config.ts';
import { startSystem } from '../start/system.ts';
import { ensureDemoRepo } from '../start/demo.ts';
import { triggerRepo } from '../start/trigger.ts';
import { recordServer } from '../start/running-server.ts';
import { choice, parseCommandArgs } from '../args.ts';

export const summary = 'run the whole system on this machine (add --demo for a sample pipeline)';
export const usage = 'estafette start [--demo] [--executor host|docker]';
export const details = `Keeps its data (embedded database, generated keys and tokens) in ./.estafette/
(ESTAFETTE_STATE_DIR), and notes its URL there and in ~/.local/state/estafette/ while it runs,
so 'estafette trigger', 'builds' and 'logs' find it from any folder.

options:
  --demo         also build a sample pipeline
  --executor E   host (stages as child processes, default) or docker (each stage in its image)`;

/** Runs the system until SIGINT/SIGTERM; 0 after a clean stop, 1 when it cannot start. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(args, { options: { demo: { type: 'boolean' }, executor: { type: 'string' } } });
  const executor = choice('executor', values.executor ?? parseCliConfig().executor ?? 'host', EXECUTOR_NAMES);
  let system;
  let forget: () => void;
  try {
    // JSON lines when the output goes to a file or another program; readable ones on a terminal.
    const log = createLogger({ level: parseLogLevel(), ...(process.stdout.isTTY ? { destination: prettyDestination() } : {}) });
    system = await startSystem({ executor, log });
    forget = recordServer(system.stateDir, userStateDir(), { url: system.url, webhookToken: system.webhookToken });
  } catch (err) {
    await system?.stop();
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
      `  build a repo   estafette trigger <dir> [--watch]   (from any folder; or ESTAFETTE_URL=${u} ESTAFETTE_WEBHOOK_TOKEN=<token>)`,
      '',
    ].join('\n'),
  );

  // SIGTERM does what Ctrl-C does. A second one of either forces the stop: the database gets an
  // immediate shutdown and the process exits; builders see it go and cancel their stages themselves.
  let code = 0;
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        process.stdout.write(`estafette: ${signal} again, stopping at once\n`);
        code = 130;
        void system.kill().finally(() => process.exit(code));
        return;
      }
      stopping = true;
      process.stdout.write(`estafette: ${signal}, canceling running builds and stopping… (again to force)\n`);
      forget();
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

  if (values.demo) {
    try {
      const dir = ensureDemoRepo(system.stateDir);
      const r = await triggerRepo(u, system.webhookToken, dir, 'main');
      process.stdout.write(`estafette: demo pipeline ${r.repository} triggered (event ${r.eventId}); watch it at ${u}/\n`);
    } catch (err) {
      process.stderr.write(`estafette: demo failed: ${(err as Error).message}\n`);
    }
  }
  await stopped;
  return code;
}
