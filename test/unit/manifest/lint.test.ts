import { expect } from 'chai';
import { loadManifest } from '../../../shared/manifest/load.ts';
import { imageTagWarning } from '../../../shared/manifest/lint.ts';

/** A minimal valid manifest with the given extra YAML appended. */
const base = (extra = '', stages = 'stages:\n  build:\n    image: golang:1.22\n    commands: [go build]\n') => `${stages}${extra}`;

interface Case {
  name: string;
  yaml: string;
  field: string;
  message: RegExp;
  severity?: 'error' | 'warning';
}

const cases: Case[] = [
  // stages
  { name: 'a stage without image', yaml: 'stages:\n  build:\n    commands: [make]\n', field: 'stages.build.image', message: /is required/ },
  { name: 'no stages at all', yaml: 'labels:\n  a: b\n', field: 'stages', message: /at least one stage/ },
  { name: 'parallelStages with image', yaml: 'stages:\n  p:\n    image: alpine:3\n    parallelStages:\n      a:\n        image: alpine:3\n', field: 'stages.p.image', message: /cannot be combined with parallelStages/ },
  { name: 'parallelStages with commands', yaml: 'stages:\n  p:\n    commands: [ls]\n    parallelStages:\n      a:\n        image: alpine:3\n', field: 'stages.p.commands', message: /cannot be combined/ },
  { name: 'parallelStages with env', yaml: 'stages:\n  p:\n    env: {A: b}\n    parallelStages:\n      a:\n        image: alpine:3\n', field: 'stages.p.env', message: /cannot be combined/ },
  { name: 'parallelStages with shell', yaml: 'stages:\n  p:\n    shell: /bin/bash\n    parallelStages:\n      a:\n        image: alpine:3\n', field: 'stages.p.shell', message: /cannot be combined/ },
  { name: 'parallelStages with workDir', yaml: 'stages:\n  p:\n    workDir: /x\n    parallelStages:\n      a:\n        image: alpine:3\n', field: 'stages.p.workDir', message: /cannot be combined/ },
  {
    name: 'nested parallelStages',
    yaml: 'stages:\n  p:\n    parallelStages:\n      a:\n        parallelStages:\n          b:\n            image: alpine:3\n',
    field: 'stages.p.parallelStages.a.parallelStages',
    message: /cannot be nested/,
  },
  { name: 'empty parallelStages', yaml: 'stages:\n  p:\n    parallelStages: {}\n', field: 'stages.p.parallelStages', message: /at least one stage/ },
  { name: 'a parallel stage without image', yaml: 'stages:\n  p:\n    parallelStages:\n      a:\n        commands: [ls]\n', field: 'stages.p.parallelStages.a.image', message: /is required/ },
  { name: 'a bad when', yaml: "stages:\n  s:\n    image: alpine:3\n    when: status = 'x'\n", field: 'stages.s.when', message: /invalid when expression: unexpected character '='/ },
  { name: 'a non-boolean when', yaml: 'stages:\n  s:\n    image: alpine:3\n    when: "\'succeeded\'"\n', field: 'stages.s.when', message: /not evaluate to a boolean/ },
  { name: 'a when calling a function', yaml: "stages:\n  s:\n    image: alpine:3\n    when: exec('x')\n", field: 'stages.s.when', message: /unknown function 'exec'/ },
  { name: 'a when with an unknown parameter', yaml: "stages:\n  s:\n    image: alpine:3\n    when: stat == 'x'\n", field: 'stages.s.when', message: /unknown parameter 'stat'/ },
  { name: 'negative retries', yaml: 'stages:\n  s:\n    image: alpine:3\n    retries: -1\n', field: 'stages.s.retries', message: /from 0 to 20/ },
  { name: 'too many retries', yaml: 'stages:\n  s:\n    image: alpine:3\n    retries: 1000\n', field: 'stages.s.retries', message: /from 0 to 20/ },
  { name: 'a bad timeout', yaml: 'stages:\n  s:\n    image: alpine:3\n    timeout: soon\n', field: 'stages.s.timeout', message: /not a duration/ },
  { name: 'a zero timeout', yaml: 'stages:\n  s:\n    image: alpine:3\n    timeout: 0s\n', field: 'stages.s.timeout', message: /not a duration/ },
  // services
  { name: 'a service without name', yaml: 'stages:\n  s:\n    image: alpine:3\n    services:\n    - image: pg:16\n', field: 'stages.s.services[0].name', message: /needs a name/ },
  { name: 'a service without image', yaml: 'stages:\n  s:\n    image: alpine:3\n    services:\n    - name: db\n', field: 'stages.s.services[0].image', message: /is required/ },
  {
    name: 'two services with one name',
    yaml: 'stages:\n  s:\n    image: alpine:3\n    services:\n    - name: db\n      image: pg:16\n    - name: db\n      image: pg:16\n',
    field: 'stages.s.services[1].name',
    message: /defined twice/,
  },
  {
    name: 'a bad readiness port',
    yaml: 'stages:\n  s:\n    image: alpine:3\n    services:\n    - name: db\n      image: pg:16\n      readiness:\n        port: 70000\n',
    field: 'stages.s.services[0].readiness.port',
    message: /1 to 65535/,
  },
  {
    name: 'a readinessProbe with httpGet and exec',
    yaml: 'stages:\n  s:\n    image: alpine:3\n    services:\n    - name: db\n      image: pg:16\n      readinessProbe:\n        httpGet: {port: 80}\n        exec: {command: [true]}\n',
    field: 'stages.s.services[0].readinessProbe',
    message: /not both/,
  },
  { name: 'a bad service when', yaml: 'stages:\n  s:\n    image: alpine:3\n    services:\n    - name: db\n      image: pg:16\n      when: status ==\n', field: 'stages.s.services[0].when', message: /invalid when/ },
  // triggers
  {
    name: 'a trigger with two filters',
    yaml: base('triggers:\n- pipeline:\n    name: github.com/o/r\n  git:\n    repository: github.com/o/r\n'),
    field: 'triggers[0]',
    message: /exactly one filter; found pipeline and git/,
  },
  { name: 'a trigger with no filter', yaml: base('triggers:\n- builds:\n    branch: main\n'), field: 'triggers[0]', message: /found none/ },
  {
    name: 'a trigger building a branch git would read as an option',
    yaml: base("triggers:\n- cron:\n    schedule: '0 1 * * *'\n  builds:\n    branch: --upload-pack=touch /tmp/pwned\n"),
    field: 'triggers[0].builds.branch',
    message: /is not a valid git branch name: "--upload-pack=touch \/tmp\/pwned"/,
  },
  { name: 'a trigger with two actions', yaml: base('triggers:\n- git:\n    repository: github.com/o/r\n  builds: {}\n  runs: {}\n'), field: 'triggers[0]', message: /at most one action/ },
  { name: 'a build trigger with a releases action', yaml: base('triggers:\n- git:\n    repository: github.com/o/r\n  releases: {target: x}\n'), field: 'triggers[0].releases', message: /not allowed in build triggers/ },
  { name: 'an invalid cron', yaml: base("triggers:\n- cron:\n    schedule: '61 * * * *'\n"), field: 'triggers[0].cron.schedule', message: /invalid cron schedule/ },
  { name: 'a 6-field cron', yaml: base("triggers:\n- cron:\n    schedule: '0 0 10 * * *'\n"), field: 'triggers[0].cron.schedule', message: /5 fields/ },
  { name: 'a cron without schedule', yaml: base('triggers:\n- cron: {}\n'), field: 'triggers[0].cron.schedule', message: /is required/ },
  { name: 'a pipeline trigger without name', yaml: base('triggers:\n- pipeline:\n    branch: main\n'), field: 'triggers[0].pipeline.name', message: /is required/ },
  { name: 'a pipeline trigger with a bad event', yaml: base('triggers:\n- pipeline:\n    name: self\n    event: done\n'), field: 'triggers[0].pipeline.event', message: /started, finished/ },
  { name: 'a pipeline trigger with a bad branch regex', yaml: base("triggers:\n- pipeline:\n    name: self\n    branch: 'feature/(x'\n"), field: 'triggers[0].pipeline.branch', message: /invalid regular expression/ },
  { name: 'a release trigger without target', yaml: base('triggers:\n- release:\n    name: github.com/o/r\n'), field: 'triggers[0].release.target', message: /is required/ },
  { name: 'a git trigger without repository', yaml: base('triggers:\n- git:\n    branch: main\n'), field: 'triggers[0].git.repository', message: /is required/ },
  { name: 'a pubsub trigger without topic', yaml: base('triggers:\n- pubsub:\n    project: p\n'), field: 'triggers[0].pubsub.topic', message: /is required/ },
  { name: 'a github trigger without events', yaml: base('triggers:\n- github:\n    repository: github.com/o/r\n'), field: 'triggers[0].github.events', message: /at least one/ },
  { name: 'two triggers with one name', yaml: base("triggers:\n- name: up\n  pipeline: {name: self}\n- name: up\n  cron: {schedule: '* * * * *'}\n"), field: 'triggers[1].name', message: /already used/ },
  { name: 'a build trigger on itself', yaml: base('triggers:\n- pipeline:\n    name: self\n'), field: 'triggers[0].pipeline.name', message: /rebuilds after every build/, severity: 'warning' },
  { name: 'a docker trigger', yaml: base('triggers:\n- docker:\n    image: golang\n'), field: 'triggers[0].docker', message: /never fire/, severity: 'warning' },
  // releases and bots
  { name: 'a release naming a missing template', yaml: base('releases:\n  prod:\n    template: nope\n'), field: 'releases.prod.template', message: /not defined/ },
  {
    name: 'a release trigger with an unknown action',
    yaml: base('releases:\n  prod:\n    actions:\n    - name: deploy\n    triggers:\n    - pipeline: {name: self}\n      releases: {action: rollback}\n    stages:\n      d:\n        image: alpine:3\n'),
    field: 'releases.prod.triggers[0].releases.action',
    message: /not one of this release's actions \(deploy\)/,
  },
  {
    name: 'a bad when in a release stage',
    yaml: base('releases:\n  production:\n    stages:\n      deploy:\n        image: alpine:3\n        when: branch ==\n'),
    field: 'releases.production.stages.deploy.when',
    message: /invalid when/,
  },
  {
    name: 'an invalid cron in a bot',
    yaml: base("bots:\n  b:\n    triggers:\n    - cron: {schedule: 'x * * * *'}\n    stages:\n      s:\n        image: alpine:3\n"),
    field: 'bots.b.triggers[0].cron.schedule',
    message: /invalid cron/,
  },
  { name: 'a bot without stages', yaml: base('bots:\n  b:\n    clone: true\n'), field: 'bots.b.stages', message: /at least one stage/ },
  { name: 'duplicate action names', yaml: base('releases:\n  prod:\n    actions:\n    - name: a\n    - name: a\n'), field: 'releases.prod.actions[1].name', message: /defined twice/ },
  { name: 'a release without stages', yaml: base('releases:\n  tooling: {}\n'), field: 'releases.tooling.stages', message: /no stages/, severity: 'warning' },
  // top level
  { name: 'a bad builder os', yaml: base('builder:\n  os: macos\n'), field: 'builder.os', message: /linux, windows/ },
  { name: 'the dev builder track', yaml: base('builder:\n  track: dev\n'), field: 'builder.track', message: /'dev' builder track/, severity: 'warning' },
  { name: 'an unknown builder track', yaml: base('builder:\n  track: nightly\n'), field: 'builder.track', message: /stable, beta, dev for os linux/ },
  { name: 'a windows track on linux', yaml: base('builder:\n  track: nanoserver-1809-stable\n'), field: 'builder.track', message: /for os linux/ },
  { name: 'a linux track on windows', yaml: base('builder:\n  os: windows\n  track: stable\n'), field: 'builder.track', message: /nanoserver-1809-stable, nanoserver-1809-beta, nanoserver-1809-dev for os windows/ },
  { name: 'a bad track in a release builder', yaml: base('releases:\n  p:\n    builder: {track: edge}\n    stages:\n      d:\n        image: a:1\n'), field: 'releases.p.builder.track', message: /must be one of/ },
  {
    name: 'a finished pipeline trigger on another status',
    yaml: base('triggers:\n- pipeline:\n    name: self\n    status: canceled\n'),
    field: 'triggers[0].pipeline.status',
    message: /'succeeded' or 'failed' for event 'finished'/,
  },
  { name: 'a pipeline trigger status regex', yaml: base("triggers:\n- pipeline:\n    name: self\n    status: 'succeeded|failed'\n"), field: 'triggers[0].pipeline.status', message: /'succeeded' or 'failed'/ },
  {
    name: 'a finished release trigger on another status',
    yaml: base('triggers:\n- release:\n    name: self\n    target: p\n    status: running\n'),
    field: 'triggers[0].release.status',
    message: /'succeeded' or 'failed'/,
  },
  {
    name: 'a status on a started pipeline trigger',
    yaml: base('triggers:\n- pipeline:\n    name: github.com/o/r\n    event: started\n    status: whatever\n'),
    field: 'triggers[0].pipeline.status',
    message: /ignored for event 'started'/,
    severity: 'warning',
  },
  {
    name: 'a release trigger naming another target',
    yaml: base('releases:\n  a:\n    triggers:\n    - pipeline: {name: self}\n      releases: {target: b}\n    stages:\n      d:\n        image: a:1\n'),
    field: 'releases.a.triggers[0].releases.target',
    message: /'b' is ignored.*defined under \('a'\)/,
    severity: 'warning',
  },
  { name: "a major beyond Go's int", yaml: base('version:\n  semver:\n    major: 100000000000000000000000\n'), field: 'version.semver.major', message: /from 0 to 9223372036854775807/ },
  { name: 'a negative minor', yaml: base('version:\n  semver:\n    minor: -1\n'), field: 'version.semver.minor', message: /from 0 to/ },
  { name: 'a misspelt stage key', yaml: 'stages:\n  s:\n    image: a:1\n    comands: [ls]\n', field: 'stages.s.comands', message: /custom property/, severity: 'warning' },
  { name: 'semver and custom together', yaml: base('version:\n  semver: {major: 1}\n  custom: {labelTemplate: x}\n'), field: 'version', message: /custom version is used/, severity: 'warning' },
  { name: 'an unknown version template function', yaml: base("version:\n  semver:\n    patch: '{{counter}}'\n"), field: 'version.semver.patch', message: /unknown template function/ },
  { name: 'a bad releaseBranch regex', yaml: base("version:\n  semver:\n    releaseBranch: '('\n"), field: 'version.semver.releaseBranch', message: /invalid regular expression/ },
  // image warnings
  { name: 'an image on latest', yaml: 'stages:\n  s:\n    image: alpine:latest\n', field: 'stages.s.image', message: /'latest' tag/, severity: 'warning' },
  { name: 'an untagged image', yaml: 'stages:\n  s:\n    image: localhost:5000/alpine\n', field: 'stages.s.image', message: /no tag/, severity: 'warning' },
  { name: 'an image on dev', yaml: 'stages:\n  s:\n    image: extensions/docker:dev\n', field: 'stages.s.image', message: /'dev' tag/, severity: 'warning' },
];

describe('lintManifest rules', () => {
  cases.forEach((c) =>
    it(`${c.severity === 'warning' ? 'warns about' : 'rejects'} ${c.name} at ${c.field}`, () => {
      const r = loadManifest(c.yaml);
      const list = c.severity === 'warning' ? r.warnings : r.errors;
      const found = list.filter((p) => p.field === c.field);
      expect(found, `${c.field} not in ${JSON.stringify([...r.errors, ...r.warnings])}`).to.have.length.greaterThan(0);
      expect(found.map((p) => p.message).join('\n')).to.match(c.message);
      if (c.severity === 'warning') expect(r.errors).to.deep.equal([]);
    }),
  );

  const valid: Array<[string, string]> = [
    ['a services-only stage', 'stages:\n  svc:\n    services:\n    - name: db\n      image: pg:16\n  use:\n    image: alpine:3\n'],
    ['parallel stages with services on the parent', 'stages:\n  p:\n    services:\n    - name: db\n      image: pg:16\n    parallelStages:\n      a:\n        image: alpine:3\n'],
    ['durations', "stages:\n  a:\n    image: alpine:3\n    timeout: 1h30m\n  b:\n    image: alpine:3\n    timeout: 90\n  c:\n    image: alpine:3\n    timeout: '30s'\n"],
    ['a negated branch pattern', base("triggers:\n- pipeline:\n    name: self\n    branch: '!~ main'\n")],
    ['a release with a template that has its stages', base('releaseTemplates:\n  t:\n    stages:\n      d:\n        image: alpine:3\nreleases:\n  prod:\n    template: t\n')],
    [
      'a bot trigger running another bot',
      base("bots:\n  a:\n    stages:\n      s:\n        image: alpine:3\n  b:\n    triggers:\n    - cron: {schedule: '*/5 * * * *'}\n      runs: {bot: a}\n    stages:\n      s:\n        image: alpine:3\n"),
    ],
    ['a when with ESTAFETTE_ variables', "stages:\n  s:\n    image: alpine:3\n    when: branch == '${ESTAFETTE_GIT_BRANCH}'\n"],
    ['an empty when (the default)', "stages:\n  s:\n    image: alpine:3\n    when: ''\n"],
    ['empty version templates (their defaults)', base("version:\n  semver:\n    patch: ''\n    labelTemplate: ''\n")],
    ['an empty custom labelTemplate', base("version:\n  custom:\n    labelTemplate: ''\n")],
    [
      'every linux and windows track',
      base(
        'builder: {track: beta}\nreleases:\n  w:\n    builder: {os: windows, track: nanoserver-1809-beta}\n    stages:\n      d:\n        image: a:1\n  v:\n    builder: {os: windows}\n    stages:\n      d:\n        image: a:1\n',
      ),
    ],
    ['a failed pipeline trigger', base('triggers:\n- pipeline:\n    name: github.com/o/r\n    status: failed\n')],
    ["a huge major within Go's int", base('version:\n  semver:\n    major: 9223372036854775807\n')],
  ];
  valid.forEach(([name, yaml]) => it(`accepts ${name}`, () => expect(loadManifest(yaml).errors).to.deep.equal([])));

  it('returns every problem at once, not just the first', () => {
    const r = loadManifest("stages:\n  a:\n    commands: [x]\n  b:\n    image: alpine:3\n    when: 'nope ('\n    retries: -2\n");
    expect(r.errors.map((e) => e.field)).to.have.members(['stages.a.image', 'stages.b.when', 'stages.b.retries']);
  });

  const images: Array<[string, RegExp | undefined]> = [
    ['alpine:3.19', undefined],
    ['alpine', /no tag/],
    ['alpine:latest', /latest/],
    ['registry:5000/team/app', /no tag/],
    ['registry:5000/team/app:1.0', undefined],
    ['extensions/gke:${ESTAFETTE_BUILD_VERSION}', undefined],
    ['alpine@sha256:' + 'a'.repeat(64), undefined],
  ];
  images.forEach(([image, want]) =>
    it(`image tag check: ${image}`, () => {
      const w = imageTagWarning(image);
      if (want) expect(w).to.match(want);
      else expect(w).to.equal(undefined);
    }),
  );
});
