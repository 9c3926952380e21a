/**
 * Build and release detail: a header (version, status, branch, revision, commit, trigger,
 * timings, actions), for a failed run a summary of where it failed, and the stage tree beside
 * the selected stage's log — live while the run is active, every planned stage listed from the
 * start. Which stage is shown: the user's pick (never overridden), else the line linked by
 * `#L<n>`, else while live the stage that is printing, else for a failed run the first failed
 * stage scrolled to its error line. The log has search over the whole log (server side; `/`
 * focuses it), timestamps, and raw / download links. The tab shows the run's status.
 */
import Anser from 'anser';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { pipelinePath } from '../api/client.ts';
import type { Bot, Build, Release, Stage } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { BuildActions } from '../components/build-actions.tsx';
import { CommitCell } from '../components/build-cells.tsx';
import { ErrorBox, Loading } from '../components/feedback.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { Tabs } from '../components/tabs.tsx';
import { elapsedSeconds, formatDuration, formatTime, fromNs, shortRevision } from '../format.ts';
import { errorLineIndex, exitCodeOf } from '../logs/error-line.ts';
import { stageKey } from '../logs/log-store.ts';
import { lineNumber, LogView } from '../logs/log-view.tsx';
import { TIMESTAMP_MODES, useTimestampMode, type TimestampMode } from '../logs/timestamps.ts';
import { useLogSearch } from '../logs/use-log-search.ts';
import { type StatusEvent, useLogs } from '../logs/use-logs.ts';
import { pipelineUrl, useLocation } from '../router.ts';
import { allNodes, buildStageTree, defaultSelection, firstFailure, followedStage, mergeStages, type StageNode } from '../stages/stage-tree.ts';
import { StageTreeView } from '../stages/stage-tree-view.tsx';
import { useAction } from '../api/use-action.ts';
import { canOperate, useSession } from '../session.ts';
import { useTabStatus } from '../tab-status.ts';
import { triggerText } from '../words.ts';
import { ScheduleFacts } from '../scheduling/queue-note.tsx';
import { ApprovalPanel } from '../scheduling/approval-panel.tsx';

type Ref = { repoSource: string; repoOwner: string; repoName: string };
const FINAL = new Set(['succeeded', 'failed', 'canceled']);
const POLL_MS = 4_000;
const TIMESTAMP_LABELS: Record<TimestampMode, string> = { off: 'off', absolute: 'clock time', relative: 'since stage start' };

type RunKind = 'build' | 'release' | 'bot';
const COLLECTION: Record<RunKind, string> = { build: 'builds', release: 'releases', bot: 'bots' };

/** The detail page of one build (`kind="build"`), release or bot run. */
export function RunPage(props: Ref & { kind: RunKind; id: string; tab: string }) {
  const base = `${pipelinePath(props)}/${COLLECTION[props.kind]}/${encodeURIComponent(props.id)}`;
  const run = useResource<Build | Release | Bot>(base);
  const stagesRes = useResource<{ items: Stage[] }>(`${base}/stages`);
  const [liveStatus, setLiveStatus] = useState<string | undefined>();
  const [liveStages, setLiveStages] = useState<Stage[] | undefined>();

  const build = props.kind === 'build' ? (run.data as Build | undefined) : undefined;
  const release = props.kind === 'release' ? (run.data as Release | undefined) : undefined;
  const bot = props.kind === 'bot' ? (run.data as Bot | undefined) : undefined;
  const status = liveStatus ?? build?.buildStatus ?? release?.releaseStatus ?? bot?.botStatus;
  // Live until the run is known to be final; undefined while loading (nothing opened yet).
  const live = status ? !FINAL.has(status) : undefined;

  useTabStatus(
    build
      ? `${status} — build ${build.buildVersion} of ${props.repoOwner}/${props.repoName}`
      : release
        ? `${status} — release ${release.releaseVersion} to ${release.name} of ${props.repoOwner}/${props.repoName}`
        : bot
          ? `${status} — bot ${bot.name} of ${props.repoOwner}/${props.repoName}`
          : props.kind === 'build'
            ? 'Build'
            : props.kind === 'release'
              ? 'Release'
              : 'Bot',
    status,
  );

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
  const detailUrl = pipelineUrl(props, `${COLLECTION[props.kind]}/${encodeURIComponent(props.id)}`);

  return (
    <section class="run">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Pipelines</a> / <a href={pipelineUrl(props)}>{`${props.repoOwner}/${props.repoName}`}</a> / {props.kind}
      </nav>
      {run.error && !run.data ? <ErrorBox error={run.error} retry={run.reload} context={`Could not load this ${props.kind}`} /> : null}
      {!run.data && run.loading ? <Loading what={props.kind} /> : null}
      {build ? <BuildHeader pref={props} build={build} status={status!} onChange={run.reload} /> : null}
      {release ? <ReleaseHeader pref={props} release={release} status={status!} onChange={run.reload} /> : null}
      {release ? <ApprovalPanel pref={props} release={release} onChange={run.reload} /> : null}
      {bot ? <BotHeader pref={props} bot={bot} status={status!} onChange={run.reload} /> : null}
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
            <StagesAndLogs base={base} pref={props} stages={liveStages ?? stagesRes.data?.items} stagesError={stagesRes.error} reloadStages={stagesRes.reload} logs={logs} live={!!live} status={status ?? 'pending'} />
          )}
        </>
      ) : null}
    </section>
  );
}

function BuildHeader({ pref, build, status, onChange }: { pref: Ref; build: Build; status: string; onChange: () => void }) {
  return (
    <header class="run-head">
      <div class="run-title">
        <h1>
          <span class="muted">build</span> <span class="version">{build.buildVersion}</span>
          {build.buildNumber ? <span class="muted build-number"> #{build.buildNumber}</span> : null}
        </h1>
        <StatusBadge status={status} />
        <BuildActions pref={pref} build={{ ...build, buildStatus: status as Build['buildStatus'] }} onChange={onChange} />
      </div>
      <dl class="facts">
        <Fact term="Branch" value={build.repoBranch} />
        <Fact term="Revision" value={<code title={build.repoRevision}>{shortRevision(build.repoRevision)}</code>} />
        {build.commits?.length ? <Fact term="Commit" value={<CommitCell commits={build.commits} />} /> : null}
        <Fact term="Trigger" value={triggerText(build.trigger)} />
        <ScheduleFacts run={build} status={status} />
        <Timings inserted={build.insertedAt} started={build.startedAt} duration={fromNs(build.duration)} updated={build.updatedAt} status={status} estimated={fromNs(build.estimatedDuration)} />
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
          <button type="button" class="danger" disabled={act.busy} onClick={() => act.run('DELETE', `${pipelinePath(pref)}/releases/${encodeURIComponent(release.id)}`, undefined, 'Cancel requested.', onChange)}>
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
        <Timings inserted={release.insertedAt} started={release.startedAt} duration={fromNs(release.duration)} updated={release.updatedAt} status={status} />
      </dl>
    </header>
  );
}

function BotHeader({ pref, bot, status, onChange }: { pref: Ref; bot: Bot; status: string; onChange: () => void }) {
  const me = useSession();
  const act = useAction();
  return (
    <header class="run-head">
      <div class="run-title">
        <h1>
          <span class="muted">bot</span> <span class="version">{bot.name}</span>
        </h1>
        <StatusBadge status={status} />
        {!FINAL.has(status) && canOperate(me) ? (
          <button type="button" class="danger" disabled={act.busy} onClick={() => act.run('DELETE', `${pipelinePath(pref)}/bots/${encodeURIComponent(bot.id)}`, undefined, 'Cancel requested.', onChange)}>
            Cancel bot
          </button>
        ) : null}
        {act.error ? <ErrorBox error={act.error} context="Cancel failed" /> : null}
        {act.done ? <span role="status">{act.done}</span> : null}
      </div>
      <dl class="facts">
        <Fact term="Event" value={triggerText(bot.trigger)} />
        <Fact term="Branch" value={bot.repoBranch} />
        {bot.repoRevision ? <Fact term="Revision" value={<code title={bot.repoRevision}>{shortRevision(bot.repoRevision)}</code>} /> : null}
        {bot.statusReason ? <Fact term="Reason" value={bot.statusReason} /> : null}
        <Timings inserted={bot.insertedAt} started={bot.startedAt} duration={fromNs(bot.duration)} updated={bot.updatedAt} status={status} />
      </dl>
    </header>
  );
}

function Timings(p: { inserted: string; started?: string | null; updated?: string | null; duration?: number | null; status: string; estimated?: number }) {
  const running = !FINAL.has(p.status);
  // A build's duration is 0 until it finished (Estafette's zero Duration): while running, the time so far.
  const seconds = running ? elapsedSeconds(p.started ?? p.inserted) : (p.duration ?? null);
  const left = running && p.estimated !== undefined && seconds !== null ? p.estimated - seconds : undefined;
  return (
    <>
      <Fact term="Queued" value={<time dateTime={p.inserted}>{formatTime(p.inserted)}</time>} />
      {p.started ? <Fact term="Started" value={<time dateTime={p.started}>{formatTime(p.started)}</time>} /> : null}
      <Fact term={running ? 'Running for' : 'Duration'} value={formatDuration(seconds)} />
      {left !== undefined ? <Fact term="Time left" value={left > 0 ? `about ${formatDuration(Math.max(1, left))}` : `longer than usual (${formatDuration(p.estimated)})`} /> : null}
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

/** A stage node's path without its run (`test/lint`). */
const pathOf = (key: string | undefined) => key?.slice(0, key.lastIndexOf('#'));

function StagesAndLogs(props: { base: string; pref: Ref; stages: Stage[] | undefined; stagesError: Error | undefined; reloadStages: () => void; logs: ReturnType<typeof useLogs>; live: boolean; status: string }) {
  const { logs, live } = props;
  const store = logs.store;
  const { hash } = useLocation();
  const targetSeq = /^#L\d+$/.test(hash) ? Number(hash.slice(2)) - 1 : undefined;
  const [chosen, setChosen] = useState<string | undefined>();
  const [timestamps, setTimestamps] = useTimestampMode();
  const [query, setQuery] = useState('');
  const [matchIndex, setMatchIndex] = useState(0);
  const [scrollTo, setScrollTo] = useState<{ seq: number; nonce: number } | undefined>();
  const nonce = useRef(0);
  const followed = useRef<string | undefined>(undefined);
  const landed = useRef(false);
  const searchBox = useRef<HTMLInputElement>(null);
  const requestScroll = (seq: number) => setScrollTo({ seq, nonce: ++nonce.current });

  const final = FINAL.has(props.status);
  // A run that is over never runs its pending stages: show them as not run.
  const stages = useMemo(() => (final ? props.stages?.map((s) => (s.status === 'pending' ? { ...s, status: 'skipped' as const, message: s.message ?? 'did not run' } : s)) : props.stages), [props.stages, final]);
  const logKeys = store.keys().join('|');
  const roots = useMemo(() => buildStageTree(stages ?? [], logKeys ? logKeys.split('|') : []), [stages, logKeys]);
  const hasLines = (k: string) => store.lines(k).length > 0;

  // Where it failed, once every line is there (the error line is the failing command's).
  const failure = props.status === 'failed' ? firstFailure(roots) : undefined;
  const failureLines = failure ? store.lines(failure.key) : [];
  const errorIndex = failure && logs.complete ? errorLineIndex(failureLines) : undefined;
  const errorLine = errorIndex !== undefined ? failureLines[errorIndex] : undefined;

  const target = targetSeq !== undefined ? store.locate(targetSeq) : undefined;
  if (live) followed.current = followedStage(roots, followed.current, store.lastKey, hasLines);
  const selected = chosen ?? target?.key ?? (live ? followed.current : failure?.key) ?? defaultSelection(roots, hasLines);
  const lines = selected ? store.lines(selected) : [];
  const selectedNode = useMemo(() => allNodes(roots).find((n) => n.key === selected), [roots, selected]);

  // A new #L<n> (a reload, a clicked line number or summary link) takes over from an earlier pick.
  useEffect(() => {
    if (targetSeq === undefined) return;
    setChosen(undefined);
    requestScroll(targetSeq);
  }, [targetSeq]);

  // Land on the failure once: the first failed stage is selected above; scroll to its error line.
  useEffect(() => {
    if (landed.current || !errorLine || targetSeq !== undefined || chosen !== undefined) return;
    landed.current = true;
    requestScroll(errorLine.seq);
  }, [errorLine?.seq]);

  const search = useLogSearch(props.base, query, logs.complete);
  const matches = search.result?.matches ?? [];
  const current = matches.length ? matches[Math.min(matchIndex, matches.length - 1)] : undefined;
  const goToMatch = (i: number) => {
    if (!matches.length) return;
    const n = (i + matches.length) % matches.length;
    const m = matches[n]!;
    setMatchIndex(n);
    setChosen(stageKey(m.stage, m.run));
    requestScroll(m.seq);
  };
  // A new result set starts at its first match.
  useEffect(() => {
    if (search.result?.matches.length) goToMatch(0);
    else setMatchIndex(0);
  }, [search.result]);

  // `/` focuses the search box, as on GitHub and in less(1).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      e.preventDefault();
      searchBox.current?.focus();
      searchBox.current?.select();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const stagePath = pathOf(selected);
  const stageStart = selectedNode?.stage.startedAt ? Date.parse(selectedNode.stage.startedAt) : lines[0] ? Date.parse(lines[0].time) : undefined;
  const reusedFrom = selectedNode?.stage.reusedFrom;

  return (
    <>
      {failure ? <FailureSummary node={failure} errorLine={errorLine} waiting={!logs.complete} /> : null}
      <div class="stages-logs">
        <aside class="stages-panel">
          <h2 class="visually-hidden">Stages</h2>
          {props.stagesError && !props.stages ? <ErrorBox error={props.stagesError} retry={props.reloadStages} context="Could not load the stages" /> : null}
          {!props.stages && !props.stagesError ? <Loading what="stages" /> : null}
          <StageTreeView roots={roots} selected={selected} onSelect={(k) => setChosen(k)} />
        </aside>
        <div class="log-panel">
          <div class="log-head">
            <h2>
              {stagePath ? (
                <>
                  Log of <span class="stage-name">{stagePath}</span>
                </>
              ) : (
                'Log'
              )}
            </h2>
            <span class="muted" aria-live="polite">
              {logs.streaming ? '● live' : logs.complete ? `${lines.length} line${lines.length === 1 ? '' : 's'}` : 'loading…'}
            </span>
            {stagePath ? (
              <a class="raw-stage" href={`${props.base}/logs.txt?stage=${encodeURIComponent(stagePath)}`} target="_blank" rel="noopener">
                raw<span class="visually-hidden"> log of this stage</span>
              </a>
            ) : null}
          </div>
          <div class="log-tools" role="toolbar" aria-label="Log tools">
            <form
              class="log-search"
              role="search"
              onSubmit={(e) => {
                e.preventDefault();
                goToMatch(matchIndex + 1);
              }}
            >
              <input
                ref={searchBox}
                type="search"
                value={query}
                placeholder="Search the whole log ( / )"
                aria-label="Search the whole log"
                aria-keyshortcuts="/"
                onInput={(e) => setQuery(e.currentTarget.value)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter') {
                    e.preventDefault();
                    goToMatch(matchIndex + (e.shiftKey ? -1 : 1));
                  } else if (e.key === 'Escape') setQuery('');
                }}
              />
              <button type="button" class="icon" aria-label="Previous match" disabled={!matches.length} onClick={() => goToMatch(matchIndex - 1)}>
                ↑
              </button>
              <button type="button" class="icon" aria-label="Next match" disabled={!matches.length} onClick={() => goToMatch(matchIndex + 1)}>
                ↓
              </button>
              <span class="match-count" role="status" aria-live="polite">
                {query.trim()
                  ? search.loading && !search.result
                    ? 'searching…'
                    : search.error
                      ? 'search failed'
                      : matches.length
                        ? `${Math.min(matchIndex, matches.length - 1) + 1} of ${matches.length}${search.result?.truncated ? '+' : ''}`
                        : 'no matches'
                  : ''}
              </span>
            </form>
            <label class="inline ts-toggle">
              Timestamps{' '}
              <select value={timestamps} onChange={(e) => setTimestamps(e.currentTarget.value as TimestampMode)}>
                {TIMESTAMP_MODES.map((m) => (
                  <option key={m} value={m}>
                    {TIMESTAMP_LABELS[m]}
                  </option>
                ))}
              </select>
            </label>
            <a class="button" href={`${props.base}/logs.txt`} target="_blank" rel="noopener">
              Raw
            </a>
            <a class="button" href={`${props.base}/logs.txt?download=1`} download>
              Download
            </a>
          </div>
          {search.error ? <ErrorBox error={search.error} context="Search failed" /> : null}
          {reusedFrom ? (
            <p class="reused-note">
              This stage was not run again: its result is reused from <a href={pipelineUrl(props.pref, `builds/${encodeURIComponent(reusedFrom.buildId)}`)}>build #{reusedFrom.buildNumber}</a>, where its log is.
            </p>
          ) : null}
          {logs.error ? <ErrorBox error={logs.error} context="Could not load the log" /> : null}
          <LogView
            key={selected}
            lines={lines}
            version={logs.version}
            live={live}
            targetSeq={chosen === undefined || chosen === target?.key ? targetSeq : undefined}
            matchSeq={current?.seq}
            errorSeq={selected === failure?.key ? errorLine?.seq : undefined}
            scrollTo={scrollTo}
            highlight={query.trim() || undefined}
            timestamps={timestamps}
            stageStartMs={stageStart}
            label={`Log of stage ${stagePath ?? ''}`}
          />
        </div>
      </div>
    </>
  );
}

/** The box at the top of a failed run: which stage failed, with what exit code, and its error line with a link. */
function FailureSummary({ node, errorLine, waiting }: { node: StageNode; errorLine: { seq: number; text: string } | undefined; waiting: boolean }) {
  const code = exitCodeOf(node.stage.message);
  const path = node.stage.stage;
  return (
    <section class="failure-summary" aria-labelledby="failure-h">
      <h2 id="failure-h">
        <span aria-hidden="true">✗ </span>Stage <code class="failed-stage">{path}</code> failed
        {code !== undefined ? (
          <>
            {' '}
            with exit code <span class="exit-code">{code}</span>
          </>
        ) : node.stage.message ? (
          <>: {node.stage.message}</>
        ) : null}
      </h2>
      {errorLine ? (
        <p class="error-summary">
          <a href={`#L${lineNumber(errorLine.seq)}`} class="error-link">
            Line {lineNumber(errorLine.seq)}
          </a>
          : <code class="error-text">{Anser.ansiToText(errorLine.text)}</code>
        </p>
      ) : waiting ? (
        <p class="muted">Finding the error line…</p>
      ) : null}
    </section>
  );
}
