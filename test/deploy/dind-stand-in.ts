/**
 * The builder Job's docker-in-docker sidecar, for a builder container run on this machine: a TCP
 * endpoint (the pod's `DOCKER_HOST=tcp://127.0.0.1:2375`) in front of the test engine. In the
 * pod, the sidecar mounts the Job's work volume at the same path as the builder, so the bind
 * mounts the docker executor asks for (`/estafette-work:<stage workDir>`) resolve to that
 * volume; here the volume is a directory of the host, so container-create bodies get that path
 * instead. Everything else — attach streams (hijacked connections) included — is passed through.
 */
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A running stand-in. */
export interface DindStandIn {
  /** `tcp://127.0.0.1:<port>` for DOCKER_HOST. */
  dockerHost: string;
  port: number;
  /** Containers created through it. */
  created: number;
  stop(): Promise<void>;
}

const CREATE = /^POST \/(?:v[\d.]+\/)?containers\/create(?:\?\S*)? HTTP\/1\.1$/;
// After these the connection carries a raw stream (docker hijacks it), not further requests.
const HIJACKED = /^POST \/(?:v[\d.]+\/)?(?:containers\/[^/]+\/attach|exec\/[^/]+\/start)\b/;

/**
 * Reads the requests `client` sends, one after the other (the docker client keeps connections
 * alive), rewrites the work dir bind of each container create and forwards them to the engine;
 * answers flow back untouched. Once a request hijacks the connection (attach, exec start) or
 * sends a body of unknown length, the rest of it is a plain pipe.
 */
function proxy(client: Socket, engineSocket: string, workDir: string, hostWorkDir: string, onCreate: () => void): void {
  const engine = connect(engineSocket);
  engine.pipe(client);
  let buf = Buffer.alloc(0);
  let raw = false;
  const onData = (chunk: Buffer): void => {
    if (raw) return void engine.write(chunk);
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [requestLine, ...headerLines] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const header = (name: string) =>
        headerLines
          .find((h) => h.toLowerCase().startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      if (header('transfer-encoding') || HIJACKED.test(requestLine!) || header('upgrade')) {
        raw = true;
        engine.write(buf);
        buf = Buffer.alloc(0);
        return;
      }
      const length = Number(header('content-length') ?? 0);
      if (buf.length < end + 4 + length) return;
      let head = buf.subarray(0, end + 4);
      let body = buf.subarray(end + 4, end + 4 + length);
      buf = buf.subarray(end + 4 + length);
      if (CREATE.test(requestLine!)) {
        const spec = JSON.parse(body.toString('utf8')) as { HostConfig?: { Binds?: string[] } };
        const binds = spec.HostConfig?.Binds;
        if (binds) spec.HostConfig!.Binds = binds.map((b) => (b.startsWith(`${workDir}:`) ? `${hostWorkDir}${b.slice(workDir.length)}` : b));
        body = Buffer.from(JSON.stringify(spec));
        const headers = headerLines.filter((h) => !/^content-length:/i.test(h)).concat(`Content-Length: ${body.length}`);
        head = Buffer.from(`${requestLine}\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1');
        onCreate();
      }
      engine.write(Buffer.concat([head, body]));
    }
  };
  client.on('data', onData);
  const close = (): void => {
    client.destroy();
    engine.destroy();
  };
  client.on('error', close);
  engine.on('error', close);
  client.on('close', close);
  engine.on('close', close);
}

/**
 * Starts the stand-in on a free port of 127.0.0.1 for the engine at unix socket `engineSocket`,
 * mapping the pod's `workDir` to `hostWorkDir`.
 */
export async function startDindStandIn(engineSocket: string, workDir: string, hostWorkDir: string): Promise<DindStandIn> {
  const sockets = new Set<Socket>();
  const state = { created: 0 };
  const server = createTcpServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    proxy(client, engineSocket, workDir, hostWorkDir, () => state.created++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    dockerHost: `tcp://127.0.0.1:${port}`,
    port,
    get created() {
      return state.created;
    },
    stop: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
