/**
 * `estafette start --demo`: a small sample repository with a `.estafette.yaml` showing parallel
 * stages, a release target and a cron trigger, created once in the state folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DEMO_MANIFEST = `# The demo pipeline of 'estafette start --demo'.
labels:
  app: estafette-demo
  team: local
version:
  semver:
    major: 1
    minor: 0
triggers:
- name: nightly
  cron:
    schedule: '0 3 * * *'
  builds:
    branch: main
stages:
  prepare:
    image: alpine:3.20
    commands:
    - echo "Preparing \${ESTAFETTE_BUILD_VERSION} of \${ESTAFETTE_GIT_FULLNAME}"
    - ls
  test:
    parallelStages:
      unit-tests:
        image: alpine:3.20
        commands:
        - for i in 1 2 3 4 5 6; do echo "unit test $i passed"; sleep 0.5; done
      lint:
        image: alpine:3.20
        commands:
        - for i in 1 2 3 4; do echo "lint check $i ok"; sleep 0.5; done
  package:
    image: alpine:3.20
    commands:
    - printf '\\033[32mpackaged\\033[0m version %s\\n' "\${ESTAFETTE_BUILD_VERSION}"
releases:
  production:
    stages:
      deploy:
        image: alpine:3.20
        commands:
        - echo "Deploying \${ESTAFETTE_BUILD_VERSION} to \${ESTAFETTE_RELEASE_NAME}"
        - sleep 1
        - echo "Deployed"
`;

/** Creates the demo repository (once) and returns its path. */
export function ensureDemoRepo(stateDir: string): string {
  const dir = join(stateDir, 'demo', 'estafette-demo');
  if (existsSync(join(dir, '.git'))) return dir;
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=Estafette Demo', '-c', 'user.email=demo@estafette.local', '-c', 'commit.gpgsign=false', ...args], { stdio: 'ignore' });
  execFileSync('git', ['init', '-q', '-b', 'main', dir]);
  writeFileSync(join(dir, '.estafette.yaml'), DEMO_MANIFEST);
  writeFileSync(join(dir, 'README.md'), '# estafette-demo\n\nA sample pipeline for the local mode.\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'Add the demo pipeline');
  return dir;
}
