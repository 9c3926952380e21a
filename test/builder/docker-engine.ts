/**
 * Whether the docker executor specs can run here. They need an engine (DOCKER_HOST or the
 * default socket) holding the locally built test image (test/fixtures/builder/build-test-image.sh).
 * Without one they skip loudly — except when CI both requires services (REQUIRE_SERVICES=1) and
 * says it started an engine (DOCKER_HOST set), where a missing engine is a failure.
 */
import Docker from 'dockerode';

/** The image the docker specs run stages and services in. */
export const TEST_IMAGE = process.env.ESTAFETTE_TEST_IMAGE ?? 'estafette-test/busybox:1';

/** True when a missing engine must fail the specs instead of skipping them. */
export const DOCKER_REQUIRED = process.env.REQUIRE_SERVICES === '1' && Boolean(process.env.DOCKER_HOST);

/** Why the docker specs cannot run, or undefined when an engine with the test image answers. */
export async function dockerUnavailable(docker: Docker = new Docker()): Promise<string | undefined> {
  try {
    await docker.ping();
  } catch (err) {
    return `no Docker engine answers at ${process.env.DOCKER_HOST ?? '/var/run/docker.sock'} (${(err as Error).message})`;
  }
  try {
    await docker.getImage(TEST_IMAGE).inspect();
  } catch {
    return `test image ${TEST_IMAGE} is not built on this engine (bash test/fixtures/builder/build-test-image.sh)`;
  }
  return undefined;
}

/** Skips the running mocha test/suite with a loud line, or throws when docker is required. */
export function skipWithoutDocker(ctx: Mocha.Context, what: string, reason: string): never {
  if (DOCKER_REQUIRED) throw new Error(`REQUIRE_SERVICES=1 and DOCKER_HOST is set, but ${what} cannot run: ${reason}`);
  console.warn(`\n  ⚠ SKIPPED ${what}: ${reason}\n`);
  ctx.skip();
}
