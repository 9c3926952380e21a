/**
 * Pipeline: release targets with the version currently released per target/action and a release
 * form, then tabs — builds (latest per branch with rebuild/cancel, then all builds filtered by
 * branch and status, kept in the URL), releases, triggers in words and insights.
 */
import { useState } from 'preact/hooks';
import { pipelinePath, query } from '../api/client.ts';
import type { Bot, Build, List, Pipeline, PipelineTrigger, Release, ReleaseTarget } from '../api/types.ts';
import { useAction } from '../api/use-action.ts';
import { useResource } from '../api/use-resource.ts';
import { BuildActions } from '../components/build-actions.tsx';
import { CommitCell, DurationCell, TriggerCell } from '../components/build-cells.tsx';
import { BotsTable, BUILD_STATUSES, BuildsTable, Pager, ReleasesTable } from '../components/run-tables.tsx';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { QueueNote } from '../scheduling/queue-note.tsx';
import { Tabs } from '../components/tabs.tsx';
import { formatAge, formatTime, shortRevision } from '../format.ts';
import { PipelineInsights } from '../insights/pipeline-insights.tsx';
import { navigate, pipelineUrl, useLocation } from '../router.ts';
import { canOperate, useSession } from '../session.ts';
import { useTabStatus } from '../tab-status.ts';
import { triggerAction, triggerCondition } from '../words.ts';

type Ref = { repoSource: string; repoOwner: string; repoName: string };
const TABS = ['builds', 'releases', 'bots', 'triggers', 'insights'] as const;
const REFRESH_MS = 5_000;

/** One pipeline's page; `tab` comes from the URL. */
export function PipelinePage(props: Ref & { tab: string }) {
  const base = pipelinePath(props);
  const pipeline = useResource<Pipeline>(base, REFRESH_MS);
  const tab = (TABS as readonly string[]).includes(props.tab) ? props.tab : 'builds';
  useTabStatus(`${props.repoOwner}/${props.repoName}`);

  return (
    <section>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Pipelines</a> / <span>{props.repoSource}</span>
      </nav>
      <div class="page-head">
        <h1>
          <span class="owner">{props.repoOwner}/</span>
          {props.repoName}
        </h1>
        {pipeline.data?.labels?.length ? (
          <span class="labels">
            {pipeline.data.labels.map(({ key: k, value: v }) => (
              <a key={k} class="label" href={`/?label=${encodeURIComponent(`${k}=${v}`)}`}>
                {k}={v}
              </a>
            ))}
          </span>
        ) : null}
      </div>
      <p class="page-links">
        <a href={`/tools?pipeline=${encodeURIComponent(`${props.repoSource}/${props.repoOwner}/${props.repoName}`)}`}>Encrypt a secret for this pipeline</a>
      </p>
      {pipeline.error ? <ErrorBox error={pipeline.error} retry={pipeline.reload} context="Could not load this pipeline" /> : null}
      {!pipeline.data && pipeline.loading ? <Loading what="pipeline" /> : null}
      {pipeline.data ? <ReleaseTargets pipeline={pipeline.data} reload={pipeline.reload} /> : null}
      <Tabs label="Pipeline sections" active={tab} tabs={TABS.map((t) => ({ id: t, label: t[0]!.toUpperCase() + t.slice(1), href: pipelineUrl(props, t === 'builds' ? '' : t) }))} />
      {tab === 'builds' ? <BuildsTab pref={props} onChange={pipeline.reload} /> : null}
      {tab === 'releases' ? <ReleasesTab pref={props} /> : null}
      {tab === 'bots' ? <BotsTab pref={props} /> : null}
      {tab === 'triggers' ? <TriggersTab pipeline={pipeline.data} /> : null}
      {tab === 'insights' ? <PipelineInsights pref={props} /> : null}
    </section>
  );
}

function ReleaseTargets({ pipeline, reload }: { pipeline: Pipeline; reload: () => void }) {
  const targets = pipeline.releaseTargets ?? [];
  if (!targets.length) return null;
  return (
    <section class="targets" aria-labelledby="targets-h">
      <h2 id="targets-h">Release targets</h2>
      <ul class="tiles">
        {targets.map((t) => (
          <TargetTile key={t.name} pipeline={pipeline} target={t} reload={reload} />
        ))}
      </ul>
    </section>
  );
}

function TargetTile({ pipeline, target, reload }: { pipeline: Pipeline; target: ReleaseTarget; reload: () => void }) {
  const me = useSession();
  const [open, setOpen] = useState(false);
  const actions = target.actions?.length ? target.actions.map((a) => a.name) : [''];
  const releaseOf = (action: string) => target.activeReleases?.find((r) => (r.action ?? '') === action);
  return (
    <li class="tile" data-target={target.name}>
      <h3>{target.name}</h3>
      <dl class="actions">
        {actions.map((a) => {
          const r = releaseOf(a);
          return (
            <div key={a} class="target-action" data-action={a}>
              <dt>{a || 'current'}</dt>
              <dd>
                {r ? (
                  <>
                    <a class="current-version" href={pipelineUrl(pipeline, `releases/${encodeURIComponent(r.id)}`)}>
                      {r.releaseVersion}
                    </a>{' '}
                    <StatusBadge status={r.releaseStatus} />{' '}
                    <time class="muted" dateTime={r.insertedAt} title={formatTime(r.insertedAt)}>
                      {formatAge(r.insertedAt)}
                    </time>
                  </>
                ) : (
                  <span class="muted current-version">never released</span>
                )}
              </dd>
            </div>
          );
        })}
      </dl>
      {canOperate(me) ? (
        open ? (
          <ReleaseForm pipeline={pipeline} target={target} actions={actions} onDone={() => (setOpen(false), reload())} onCancel={() => setOpen(false)} />
        ) : (
          <button type="button" onClick={() => setOpen(true)}>
            Release…
          </button>
        )
      ) : (
        <p class="muted">Operators can release.</p>
      )}
    </li>
  );
}

function ReleaseForm(props: { pipeline: Pipeline; target: ReleaseTarget; actions: string[]; onDone: () => void; onCancel: () => void }) {
  const builds = useResource<List<Build>>(
    `${pipelinePath(props.pipeline)}/builds${query([
      ['filter[status]', 'succeeded'],
      ['page[size]', 50],
    ])}`,
  );
  const [version, setVersion] = useState('');
  const [action, setAction] = useState(props.actions[0] ?? '');
  const act = useAction();
  const versions = [...new Set((builds.data?.items ?? []).map((b) => b.buildVersion))];
  const chosen = version || versions[0] || '';
  const id = `rel-${props.target.name}`;

  return (
    <form
      class="release-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!chosen) return;
        const body = { name: props.target.name, releaseVersion: chosen, ...(action ? { action } : {}) };
        const ok = await act.run('POST', `${pipelinePath(props.pipeline)}/releases`, body, `Releasing ${chosen} to ${props.target.name}…`);
        if (ok) setTimeout(props.onDone, 300);
      }}
    >
      {builds.error ? <ErrorBox error={builds.error} retry={builds.reload} context="Could not load the succeeded builds" /> : null}
      {builds.loading && !builds.data ? <Loading what="versions" /> : null}
      {builds.data && versions.length === 0 ? <p>No succeeded build to release yet.</p> : null}
      {versions.length ? (
        <>
          <label for={`${id}-v`}>Version</label>
          <select id={`${id}-v`} name="version" value={chosen} onChange={(e) => setVersion(e.currentTarget.value)}>
            {versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
          {props.actions.length > 1 || props.actions[0] ? (
            <>
              <label for={`${id}-a`}>Action</label>
              <select id={`${id}-a`} name="action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
                {props.actions.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            </>
          ) : null}
        </>
      ) : null}
      <div class="form-buttons">
        <button type="submit" class="primary" disabled={!chosen || act.busy}>
          {act.busy ? 'Releasing…' : `Release to ${props.target.name}`}
        </button>
        <button type="button" onClick={props.onCancel}>
          Close
        </button>
      </div>
      {act.error ? <ErrorBox error={act.error} context="Release refused" /> : null}
      {act.done ? <p role="status">{act.done}</p> : null}
    </form>
  );
}

function BuildsTab({ pref, onChange }: { pref: Ref; onChange: () => void }) {
  const base = pipelinePath(pref);
  const loc = useLocation();
  const status = loc.query.get('status') ?? '';
  const branch = loc.query.get('branch') ?? '';
  const page = Number(loc.query.get('page') ?? '1') || 1;
  const recent = useResource<List<Build>>(`${base}/recentbuilds`, REFRESH_MS);
  const all = useResource<List<Build>>(
    `${base}/builds${query([
      ['filter[status]', status],
      ['filter[branch]', branch],
      ['page[number]', page > 1 ? page : undefined],
      ['page[size]', 20],
    ])}`,
    REFRESH_MS,
  );
  const reloadAll = () => (recent.reload(), all.reload(), onChange());
  const setParam = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(loc.query);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in changes)) next.delete('page');
    const q = next.toString();
    navigate(`${loc.path}${q ? `?${q}` : ''}`, { replace: true });
  };
  const branches = [...new Set([...(recent.data?.items ?? []).map((b) => b.repoBranch), ...(branch ? [branch] : [])])];

  return (
    <div>
      <h2>Latest per branch</h2>
      {recent.error ? <ErrorBox error={recent.error} retry={recent.reload} context="Could not load the recent builds" /> : null}
      {!recent.data && recent.loading ? <Loading what="recent builds" /> : null}
      {recent.data && recent.data.items.length === 0 ? (
        <Empty title="No builds yet.">
          <p>
            Push to the repository, or run <code>estafette trigger</code> in a local clone.
          </p>
        </Empty>
      ) : null}
      <ul class="branch-cards">
        {(recent.data?.items ?? []).map((b) => (
          <li key={b.id} class="card" data-branch={b.repoBranch}>
            <div class="card-head">
              <span class="branch" title="branch">
                ⎇ {b.repoBranch}
              </span>
              <StatusBadge status={b.buildStatus} />
              <QueueNote run={b} />
            </div>
            <a class="version" href={pipelineUrl(pref, `builds/${encodeURIComponent(b.id)}`)}>
              {b.buildVersion}
            </a>{' '}
            <span class="muted">#{b.buildNumber}</span>
            <div class="muted">
              <CommitCell commits={b.commits} />
            </div>
            <div class="muted">
              {shortRevision(b.repoRevision)} · <TriggerCell build={b} /> · {formatAge(b.insertedAt)} · <DurationCell build={b} />
            </div>
            <BuildActions pref={pref} build={b} onChange={reloadAll} compact />
          </li>
        ))}
      </ul>
      <h2 id="all-builds-h">All builds</h2>
      <form class="filters" aria-labelledby="all-builds-h" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select name="status" value={status} onChange={(e) => setParam({ status: e.currentTarget.value || null })}>
            <option value="">all</option>
            {BUILD_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Branch
          <select name="branch" value={branch} onChange={(e) => setParam({ branch: e.currentTarget.value || null })}>
            <option value="">all</option>
            {branches.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        {status || branch ? (
          <button type="button" class="link-button" onClick={() => setParam({ status: null, branch: null })}>
            Clear the filters
          </button>
        ) : null}
      </form>
      {all.error ? <ErrorBox error={all.error} retry={all.reload} context="Could not load the builds" /> : null}
      {all.data && all.data.items.length === 0 && (status || branch) ? <Empty title="No build matches these filters." /> : null}
      {all.data && all.data.items.length ? <BuildsTable builds={all.data.items} /> : null}
      <Pager pagination={all.data?.pagination} page={page} setPage={(n) => setParam({ page: n > 1 ? String(n) : null })} />
    </div>
  );
}

function BotsTab({ pref }: { pref: Ref }) {
  const [page, setPage] = useState(1);
  const res = useResource<List<Bot>>(`${pipelinePath(pref)}/bots${query([['page[number]', page > 1 ? page : undefined]])}`, REFRESH_MS);
  return (
    <section aria-label="Bots">
      {res.error ? <ErrorBox error={res.error} retry={res.reload} context="Could not load the bot runs" /> : null}
      {!res.data && res.loading ? <Loading what="bot runs" /> : null}
      {res.data && res.data.items.length === 0 ? (
        <Empty title="No bot runs yet.">
          <p>
            A <code>bots:</code> entry of the manifest runs when one of its triggers fires: a <code>github:</code> or <code>bitbucket:</code> event such as <code>pull_request</code> or <code>issue_comment</code>, a cron
            schedule, or another pipeline.
          </p>
        </Empty>
      ) : null}
      {res.data?.items.length ? <BotsTable bots={res.data.items} /> : null}
      {res.data ? <Pager pagination={res.data.pagination} page={page} setPage={setPage} /> : null}
    </section>
  );
}

function ReleasesTab({ pref }: { pref: Ref }) {
  const [page, setPage] = useState(1);
  const res = useResource<List<Release>>(`${pipelinePath(pref)}/releases${query([['page[number]', page > 1 ? page : undefined]])}`, REFRESH_MS);
  return (
    <div>
      {res.error ? <ErrorBox error={res.error} retry={res.reload} context="Could not load the releases" /> : null}
      {!res.data && res.loading ? <Loading what="releases" /> : null}
      {res.data && res.data.items.length === 0 ? (
        <Empty title="No releases yet.">
          <p>Pick a succeeded version with a target's Release… button above, or add a release trigger to the manifest.</p>
        </Empty>
      ) : null}
      {res.data?.items.length ? <ReleasesTable releases={res.data.items} /> : null}
      <Pager pagination={res.data?.pagination} page={page} setPage={setPage} />
    </div>
  );
}

function TriggersTab({ pipeline }: { pipeline: Pipeline | undefined }) {
  if (!pipeline) return null;
  const triggers = pipeline.triggers ?? [];
  if (!triggers.length)
    return (
      <Empty title="This pipeline has no triggers.">
        <p>
          Add a <code>triggers:</code> section (pipeline, release, git, cron) to its <code>.estafette.yaml</code>.
        </p>
      </Empty>
    );
  return (
    <ul class="triggers">
      {triggers.map((t, i) => (
        <TriggerCard key={i} pipeline={pipeline} trigger={t} />
      ))}
    </ul>
  );
}

function TriggerCard({ pipeline, trigger: t }: { pipeline: Pipeline; trigger: PipelineTrigger }) {
  const owner = t.jobKind === 'release' ? `Release ${t.jobName ?? ''}` : t.jobKind === 'bot' ? `Bot ${t.jobName ?? ''}` : 'Build';
  const last = t.lastFired;
  return (
    <li class="card trigger-card" data-kind={t.kind}>
      <h3>
        {t.kind} trigger
        {t.name ? (
          <>
            {' '}
            <q>{t.name}</q>
          </>
        ) : null}{' '}
        <span class="muted">· {owner.trim()}</span>
      </h3>
      <p class="trigger-words">
        {capitalise(triggerAction(t.action, t.jobName))} {triggerCondition(t.kind, t.filter)}.
      </p>
      {t.kind === 'cron' ? (
        <dl class="facts">
          <div class="fact">
            <dt>Schedule</dt>
            <dd>
              <code>{String(t.filter.schedule ?? '')}</code>
            </dd>
          </div>
          <div class="fact">
            <dt>Time zone</dt>
            <dd>{t.timeZone ?? 'UTC'}</dd>
          </div>
          <div class="fact">
            <dt>Next</dt>
            <dd class="next-fire">
              {t.nextFireAt ? (
                <time dateTime={t.nextFireAt} title={t.nextFireAt}>
                  {formatTime(t.nextFireAt)}
                </time>
              ) : (
                'never (the schedule does not parse)'
              )}
            </dd>
          </div>
          <div class="fact">
            <dt>Last fired</dt>
            <dd class="last-fired">
              {last ? (
                <>
                  <time dateTime={last.at}>{formatTime(last.at)}</time>
                  {last.build ? (
                    <>
                      {' '}
                      → <a href={pipelineUrl(pipeline, `builds/${encodeURIComponent(last.build.id)}`)}>build {last.build.buildVersion}</a> <StatusBadge status={last.build.buildStatus} />
                    </>
                  ) : null}
                  {last.release ? (
                    <>
                      {' '}
                      → <a href={pipelineUrl(pipeline, `releases/${encodeURIComponent(last.release.id)}`)}>release {last.release.releaseVersion}</a> <StatusBadge status={last.release.releaseStatus} />
                    </>
                  ) : null}
                </>
              ) : (
                'not yet'
              )}
            </dd>
          </div>
        </dl>
      ) : null}
    </li>
  );
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
