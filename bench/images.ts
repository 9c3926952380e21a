/**
 * Figures of the images (`node --import tsx bench/images.ts [--rounds N]`, run by .ci/run after
 * docker/build-images.sh): each image's size beside its base image (goal ≤ base + 15 MB); each
 * container's cold start — `docker run` to the first 200 on its readiness probe, run as its
 * Knative Service runs it (test/deploy/image-system.ts) against the machine's PostgreSQL and
 * NATS — beside a bare Node server in the same base image under the same security context (goal
 * ≤ 1.5×), the median of interleaved rounds; and each function's idle RSS in its container, the
 * figure its memory request in knative/base/services.yaml is set from. Prints, asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { freePort } from '../cli/start/database.ts';
import { FUNCTION_NAMES } from '../shared/http/functions.ts';
import { baseImageOf, functionEnvironment, imageBytes, localImage, TARGETS } from '../test/deploy/image-system.ts';
import { coldStartMs, docker, quantityBytes, rssMiB, runArgs, runContainer, securityFlags, waitFor200 } from '../test/deploy/knative-container.ts';

const MB = 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pad = (s: string | number, n: number): string => String(s).padEnd(n);

function sizes(): void {
  console.log('\nimage size (MB)                    image    base   over base   goal ≤ base + 15 MB');
  for (const t of TARGETS) {
    const size = imageBytes(localImage(t));
    const base = imageBytes(baseImageOf(t));
    const over = (size - base) / MB;
    console.log(`${pad(localImage(t), 34)} ${pad((size / MB).toFixed(1), 8)} ${pad((base / MB).toFixed(1), 6)} ${pad(`+${over.toFixed(1)}`, 11)} ${over <= 15 ? 'met' : 'MISSED'}`);
  }
}

async function coldStarts(rounds: number): Promise<void> {
  const run = `bench-${randomBytes(3).toString('hex')}`;
  const env = await functionEnvironment({
    pgServer: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    run,
    migrate: true,
    secret: {
      GITHUB_WEBHOOK_SECRET: 'bench',
      ESTAFETTE_WEBHOOK_TOKEN: 'bench',
      ESTAFETTE_SECRET_KEY: randomBytes(32).toString('base64'),
      ESTAFETTE_JWT_KEY: 'bench-jwt-key',
      ESTAFETTE_AUTH: JSON.stringify({ clients: [{ id: 'bench', secret: 'bench', role: 'viewer' }] }),
    },
  });
  try {
    const node = baseImageOf('webhook-ingest');
    // The same security context as the functions', so only the program differs.
    const fnSecurity = securityFlags(env.services.get('webhook-ingest')!.container, '1000');
    const bare = async (): Promise<number> => {
      const port = await freePort();
      const name = `${run}-bare`;
      const args = [
        'run',
        '-d',
        '--name',
        name,
        '--network',
        'host',
        '--user',
        '1000:1000',
        ...fnSecurity,
        '-e',
        `PORT=${port}`,
        node,
        'node',
        '-e',
        "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)",
      ];
      return coldStartMs(args, name, `http://127.0.0.1:${port}/`);
    };
    const fn = async (name: (typeof FUNCTION_NAMES)[number]): Promise<number> => {
      const o = await env.runOptions(name, { containerName: `${run}-${name}` });
      return coldStartMs(await runArgs(o), o.name, `http://127.0.0.1:${o.port}${env.services.get(name)!.probe}`);
    };
    // nginx listens on 8080 as built: its own network namespace, reached at the container's
    // address (a published port would add docker-proxy's start to the figure).
    const frontend = async (): Promise<number> => {
      const name = `${run}-frontend`;
      const svc = env.services.get('frontend')!;
      const args = ['run', '-d', '--name', name, ...securityFlags(svc.container, '101'), localImage('frontend')];
      const url = async () => {
        const ip = await docker('inspect', '-f', '{{.NetworkSettings.IPAddress}}', name);
        return ip ? `http://${ip}:8080${svc.probe}` : undefined;
      };
      return coldStartMs(args, name, url);
    };
    const times: Record<string, number[]> = {};
    const add = (k: string, ms: number) => (times[k] ??= []).push(ms);
    for (let i = 0; i < rounds; i++) {
      add('bare', await bare());
      for (const name of FUNCTION_NAMES) add(name, await fn(name));
      add('frontend', await frontend());
    }
    const b = median(times.bare!);
    console.log(
      `\ncold start: docker run → first 200 on the readiness probe (median of ${rounds}, ms; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`,
    );
    console.log(`${pad('', 48)} ${pad('ms', 8)} ${pad('ratio', 7)} goal ≤ 1.5× bare`);
    console.log(`${pad(`bare node server (${node})`, 48)} ${pad(b.toFixed(0), 8)}`);
    for (const name of FUNCTION_NAMES) {
      const m = median(times[name]!);
      console.log(`${pad(`${name} (/readiness: database, bus, K_SINK)`, 48)} ${pad(m.toFixed(0), 8)} ${pad(`${(m / b).toFixed(2)}×`, 7)} ${m / b <= 1.5 ? 'met' : 'MISSED'}`);
    }
    console.log(`${pad('frontend (nginx, /healthz)', 48)} ${pad(median(times.frontend!).toFixed(0), 8)} (nginx base, no Node baseline)`);

    console.log('\nidle RSS in its container, 2 s after readiness (MiB)   memory request / limit (knative/base)');
    for (const name of FUNCTION_NAMES) {
      const c = await runContainer(await env.runOptions(name, { containerName: `${run}-${name}` }));
      try {
        await waitFor200(c, env.services.get(name)!.probe);
        await new Promise((r) => setTimeout(r, 2000));
        const res = env.services.get(name)!.container.resources ?? {};
        const mi = (q?: string) => (q ? `${(quantityBytes(q) / 2 ** 20).toFixed(0)}Mi` : '—');
        console.log(`${pad(name, 20)} ${pad((await rssMiB(c.name)).toFixed(1), 34)} ${mi(res.requests?.memory)} / ${mi(res.limits?.memory)}`);
      } finally {
        await c.remove();
      }
    }
  } finally {
    await docker('ps', '-aq', '--filter', `name=${run}-`).then((ids) => (ids ? docker('rm', '-f', ...ids.split('\n')) : ''));
    await env.stop();
  }
}

const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
sizes();
await coldStarts(rounds);
