/**
 * Build and release detail: a header (version, status, branch, revision, trigger, timings), the
 * stage tree beside the selected stage's log, live while the run is active, and — for builds —
 * the manifest that ran. `#L<seq>` in the URL opens the stage holding that line and scrolls to it.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { pipelinePath } from '../api/client.ts';
import type { Build, Release, Stage } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorBox, Loading } from '../components/feedback.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Tabs } from '../components/tabs.tsx';
import { elapsedSeconds, formatDuration, formatTime, shortRevision } from '../format.ts';
import { LogView } from '../logs/log-view.tsx';
import { type StatusEvent, useLogs } from '../logs/use-logs.ts';
import { pipelineUrl, useLocation } from '../router.ts';
import { buildStageTree, defaultSelection, mergeStages } from '../stages/stage-tree.ts';
import { StageTreeView } from '../stages/stage-tree-view.tsx';
import { BuildActions } from './pipeline.tsx';
import { useAction } from '../api/use-action.ts';
import { canOperate, useSession } from '../session.ts';
import { ScheduleFacts } from '../scheduling/queue-note.tsx';
import { ApprovalPanel } from '../scheduling/approval-panel.tsx';

type Ref = { repoSource: string; repoOwner: string; repoName: string };
const FINAL = new Set(['succeeded', 'failed', 'canceled']);
const POLL_MS = 4_000;

/** The detail page of one build (`kind="build"`) or release. */
export function RunPage(props: Ref & { kind: 'build' | 'release'; id: string; tab: string }) {
  const base = `${pipelinePath(props)}/${props.kind === 'build' ? 'builds' : 'releases'}/${encodeURIComponent(props.id)}`;
  const run = useResource<Build | Release>(base);
  const stagesRes = useResource<{ items: Stage[] }>(`${base}/stages`);
  const [liveStatus, setLiveStatus] = useState<string | undefined>();
  const [liveStages, setLiveStages] = useState<Stage[] | undefined>();

  const build = props.kind === 'build' ? (run.data as Build | undefined) : undefined;
  const release = props.kind === 'release' ? (run.data as Release | undefined) : undefined;
  const status = liveStatus ?? build?.buildStatus ?? release?.releaseStatus;
  // Live until the run is known to be final; undefined while loading (nothing opened yet).
  const live = status ? !FINAL.has(status) : undefined;

  // Poll while active: the stream carries lines, the header and stages are refreshed here too.
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => (run.reload(), stagesRes.reload()), POLL_MS);
    return () => clearInterval(t);
  }, [live]);
  useEffect(() => {
    if (run.data) setLiveStatus(undefined);
  }, [run.data]);
  useEffect(() => setLiveStages(undefined), [stagesRes.data]);

  const logs = useLogs(
    base,
    live,
    (e: StatusEvent) => {
      if (e.status) setLiveStatus(e.status);
      if (e.stages?.length) setLiveStages((cur) => mergeStages(cur ?? stagesRes.data?.items ?? [], e.stages!));
    },
    () => (run.reload(), stagesRes.reload()),
  );

  const tab = props.kind === 'build' && props.tab === 'manifest' ? 'manifest' : 'logs';
  const detailUrl = pipelineUrl(props, `${props.kind === 'build' ? 'builds' : 'releases'}/${encodeURIComponent(props.id)}`);

  return (
    <section class="run">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Pipelines</a> / <a href={pipelineUrl(props)}>{`${props.repoOwner}/${props.repoName}`}</a> / {props.kind === 'build' ? 'build' : 'release'}
      </nav>
      {run.error && !run.data ? <ErrorBox error={run.error} retry={run.reload} context={`Could not load this ${props.kind}`} /> : null}
      {!run.data && run.loading ? <Loading what={props.kind} /> : null}
      {build ? <BuildHeader pref={props} build={build} status={status!} onChange={run.reload} /> : null}
      {release ? <ReleaseHeader pref={props} release={release} status={status!} onChange={run.reload} /> : null}
      {release ? <ApprovalPanel pref={props} release={release} onChange={run.reload} /> : null}
      {run.data ? (
        <>
          {props.kind === 'build' ? (
            <Tabs
              label="Build sections"
              active={tab}
              tabs={[
                { id: 'logs', label: 'Logs', href: detailUrl },
                { id: 'manifest', label: 'Manifest', href: `${detailUrl}/manifest` },
              ]}
            />
          ) : null}
          {tab === 'manifest' ? (
            <pre class="manifest" aria-label="Manifest">
              {build?.manifest || 'The manifest of this build was not stored.'}
            </pre>
          ) : (
            <StagesAndLogs stages={liveStages ?? stagesRes.data?.items} stagesError={stagesRes.error} reloadStages={stagesRes.reload} logs={logs} live={!!live} />
          )}
        </>
      ) : null}
    </section>
  );
}

function BuildHeader({ pref, build, status, onChange }: { pref: Ref; build: Build; status: string; onChange: () => void }) {
  const trigger = build.trigger ? `${build.trigger.event}${build.trigger.name ? ` (${build.trigger.name})` : ''}` : 'git';
  const commit = build.commits?.[0];
  return (
    <header class="run-head">
      <div class="run-title">
        <h1>
          <span class="muted">build</span> <span class="version">{build.buildVersion}</span>
        </h1>
        <StatusBadge status={status} />
        <BuildActions pref={pref} build={{ ...build, buildStatus: status as Build['buildStatus'] }} onChange={onChange} />
      </div>
      <dl class="facts">
        <Fact term="Branch" value={build.repoBranch} />
        <Fact term="Revision" value={<code title={build.repoRevision}>{shortRevision(build.repoRevision)}</code>} />
        {commit ? <Fact term="Commit" value={`${commit.message.split('\n')[0]}${commit.author?.name ? ` — ${commit.author.name}` : ''}`} /> : null}
        <Fact term="Trigger" value={trigger} />
        <ScheduleFacts run={build} status={status} />
        <Timings inserted={build.insertedAt} started={build.startedAt} duration={build.duration} updated={build.updatedAt} status={status} />
      </dl>
    </header>
  );
}

function ReleaseHeader({ pref, release, status, onChange }: { pref: Ref; release: Release; status: string; onChange: () => void }) {
  const me = useSession();
  const act = useAction();
  const active = !FINAL.has(status);
  return (
    <header class="run-head">
      <div class="run-title">
        <h1>
          <span class="muted">release</span> <span class="version">{release.releaseVersion}</span> <span class="muted">to</span> {release.name}
          {release.action ? ` / ${release.action}` : ''}
        </h1>
        <StatusBadge status={status} />
        {active && canOperate(me) ? (
          <button
            type="button"
            class="danger"
            disabled={act.busy}
            onClick={() => act.run('DELETE', `${pipelinePath(pref)}/releases/${encodeURIComponent(release.id)}`, undefined, 'Cancel requested.', onChange)}
          >
            Cancel release
          </button>
        ) : null}
        {act.error ? <ErrorBox error={act.error} context="Cancel failed" /> : null}
        {act.done ? <span role="status">{act.done}</span> : null}
      </div>
      <dl class="facts">
        <Fact term="Target" value={release.name} />
        {release.action ? <Fact term="Action" value={release.action} /> : null}
        <Fact term="Triggered by" value={release.triggeredBy ?? ''} />
        <ScheduleFacts run={release} status={status} />
        <Timings inserted={release.insertedAt} started={release.startedAt} duration={release.duration} updated={release.updatedAt} status={status} />
      </dl>
    </header>
  );
}

function Timings(p: { inserted: string; started?: string | null; updated?: string | null; duration?: number | null; status: string }) {
  const running = !FINAL.has(p.status);
  const seconds = p.duration ?? (running ? elapsedSeconds(p.started ?? p.inserted) : null);
  return (
    <>
      <Fact term="Queued" value={<time dateTime={p.inserted}>{formatTime(p.inserted)}</time>} />
      {p.started ? <Fact term="Started" value={<time dateTime={p.started}>{formatTime(p.started)}</time>} /> : null}
      <Fact term={running ? 'Running for' : 'Duration'} value={formatDuration(seconds)} />
    </>
  );
}

function Fact({ term, value }: { term: string; value: preact.ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function StagesAndLogs(props: {
  stages: Stage[] | undefined;
  stagesError: Error | undefined;
  reloadStages: () => void;
  logs: ReturnType<typeof useLogs>;
  live: boolean;
}) {
  const { logs } = props;
  const { hash } = useLocation();
  const targetSeq = /^#L\d+$/.test(hash) ? Number(hash.slice(2)) : undefined;
  const [chosen, setChosen] = useState<string | undefined>();
  const logKeys = logs.store.keys().join('|');
  const roots = useMemo(() => buildStageTree(props.stages ?? [], logKeys ? logKeys.split('|') : []), [props.stages, logKeys]);

  // The line from the URL decides the stage until the user picks one.
  const target = targetSeq !== undefined ? logs.store.locate(targetSeq) : undefined;
  const selected = chosen ?? target?.key ?? defaultSelection(roots, (k) => logs.store.lines(k).length > 0);
  const lines = selected ? logs.store.lines(selected) : [];
  const selectedNode = selected?.slice(0, selected.lastIndexOf('#'));

  return (
    <div class="stages-logs">
      <aside class="stages-panel">
        <h2 class="visually-hidden">Stages</h2>
        {props.stagesError && !props.stages ? <ErrorBox error={props.stagesError} retry={props.reloadStages} context="Could not load the stages" /> : null}
        {!props.stages && !props.stagesError ? <Loading what="stages" /> : null}
        <StageTreeView
          roots={roots}
          selected={selected}
          onSelect={(k) => {
            setChosen(k);
          }}
        />
      </aside>
      <div class="log-panel">
        <div class="log-head">
          <h2>
            {selectedNode ? (
              <>
                Log of <span class="stage-name">{selectedNode}</span>
              </>
            ) : (
              'Log'
            )}
          </h2>
          <span class="muted" aria-live="polite">
            {logs.streaming ? '● live' : logs.complete ? `${lines.length} line${lines.length === 1 ? '' : 's'}` : 'loading…'}
          </span>
        </div>
        {logs.error ? <ErrorBox error={logs.error} context="Could not load the log" /> : null}
        <LogView
          key={selected}
          lines={lines}
          version={logs.version}
          live={props.live}
          targetSeq={chosen === undefined || chosen === target?.key ? targetSeq : undefined}
          label={`Log of stage ${selectedNode ?? ''}`}
        />
      </div>
    </div>
  );
}
