/**
 * Pipeline: release targets with the version currently released per target/action and a release
 * form, then tabs — builds (latest per branch with rebuild/cancel, then all builds), releases,
 * triggers and insights.
 */
import { useState } from 'preact/hooks';
import { pipelinePath, query } from '../api/client.ts';
import type { Build, List, Pipeline, Release, ReleaseTarget } from '../api/types.ts';
import { useAction } from '../api/use-action.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading } from '../components/feedback.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { QueueNote } from '../scheduling/queue-note.tsx';
import { Tabs } from '../components/tabs.tsx';
import { formatAge, formatDuration, formatTime, shortRevision } from '../format.ts';
import { PipelineInsights } from '../insights/pipeline-insights.tsx';
import { pipelineUrl } from '../router.ts';
import { canOperate, useSession } from '../session.ts';

type Ref = { repoSource: string; repoOwner: string; repoName: string };
const TABS = ['builds', 'releases', 'triggers', 'insights'] as const;
const REFRESH_MS = 5_000;
const ACTIVE = new Set(['pending', 'running', 'canceling', 'queued', 'awaiting-approval']);

/** One pipeline's page; `tab` comes from the URL. */
export function PipelinePage(props: Ref & { tab: string }) {
  const base = pipelinePath(props);
  const pipeline = useResource<Pipeline>(base, REFRESH_MS);
  const tab = (TABS as readonly string[]).includes(props.tab) ? props.tab : 'builds';

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
        {pipeline.data?.labels ? (
          <span class="labels">
            {Object.entries(pipeline.data.labels).map(([k, v]) => (
              <a key={k} class="label" href={`/?label=${encodeURIComponent(`${k}=${v}`)}`}>
                {k}={v}
              </a>
            ))}
          </span>
        ) : null}
      </div>
      {pipeline.error ? <ErrorBox error={pipeline.error} retry={pipeline.reload} context="Could not load this pipeline" /> : null}
      {!pipeline.data && pipeline.loading ? <Loading what="pipeline" /> : null}
      {pipeline.data ? <ReleaseTargets pipeline={pipeline.data} reload={pipeline.reload} /> : null}
      <Tabs label="Pipeline sections" active={tab} tabs={TABS.map((t) => ({ id: t, label: t[0]!.toUpperCase() + t.slice(1), href: pipelineUrl(props, t === 'builds' ? '' : t) }))} />
      {tab === 'builds' ? <BuildsTab pref={props} onChange={pipeline.reload} /> : null}
      {tab === 'releases' ? <ReleasesTab pref={props} /> : null}
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
  const builds = useResource<List<Build>>(`${pipelinePath(props.pipeline)}/builds${query([['filter[status]', 'succeeded'], ['page[size]', 50]])}`);
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

/** Rebuild and cancel buttons of one build, with their outcome in place. */
export function BuildActions({ pref, build, onChange }: { pref: Ref; build: Build; onChange?: () => void }) {
  const me = useSession();
  const act = useAction();
  if (!canOperate(me)) return null;
  const path = `${pipelinePath(pref)}/builds`;
  const active = ACTIVE.has(build.buildStatus);
  return (
    <span class="build-actions">
      {active ? (
        <button
          type="button"
          class="danger"
          disabled={act.busy || build.buildStatus === 'canceling'}
          onClick={() => act.run('DELETE', `${path}/${encodeURIComponent(build.id)}`, undefined, 'Cancel requested.', onChange)}
        >
          Cancel build
        </button>
      ) : (
        <button type="button" disabled={act.busy} onClick={() => act.run('POST', path, { buildVersion: build.buildVersion }, 'Rebuild requested.', onChange)}>
          Rebuild
        </button>
      )}
      {act.error ? <ErrorBox error={act.error} context={active ? 'Cancel failed' : 'Rebuild failed'} /> : null}
      {act.done ? (
        <span role="status" class="muted">
          {' '}
          {act.done}
        </span>
      ) : null}
    </span>
  );
}

function BuildsTab({ pref, onChange }: { pref: Ref; onChange: () => void }) {
  const base = pipelinePath(pref);
  const recent = useResource<List<Build>>(`${base}/recentbuilds`, REFRESH_MS);
  const [page, setPage] = useState(1);
  const all = useResource<List<Build>>(`${base}/builds${query([['page[number]', page > 1 ? page : undefined], ['page[size]', 20]])}`, REFRESH_MS);
  const reloadAll = () => (recent.reload(), all.reload(), onChange());

  return (
    <div>
      <h2>Latest per branch</h2>
      {recent.error ? <ErrorBox error={recent.error} retry={recent.reload} context="Could not load the recent builds" /> : null}
      {!recent.data && recent.loading ? <Loading what="recent builds" /> : null}
      {recent.data && recent.data.items.length === 0 ? (
        <Empty title="No builds yet.">
          <p>
            Push to the repository, or run <code>npx estafette trigger</code> in a local clone.
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
            </a>
            <div class="muted">
              {shortRevision(b.repoRevision)} · {b.commits?.[0]?.message?.split('\n')[0] ?? ''} · {formatAge(b.insertedAt)}
              {b.duration ? ` · ${formatDuration(b.duration)}` : ''}
            </div>
            <BuildActions pref={pref} build={b} onChange={reloadAll} />
          </li>
        ))}
      </ul>
      <h2>All builds</h2>
      {all.error ? <ErrorBox error={all.error} retry={all.reload} context="Could not load the builds" /> : null}
      {all.data && all.data.items.length ? (
        <table class="list builds">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">Branch</th>
              <th scope="col">Revision</th>
              <th scope="col">Age</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {all.data.items.map((b) => (
              <tr key={b.id}>
                <td data-label="Version">
                  <a href={pipelineUrl(pref, `builds/${encodeURIComponent(b.id)}`)}>{b.buildVersion}</a>
                </td>
                <td data-label="Status">
                  <StatusBadge status={b.buildStatus} /> <QueueNote run={b} />
                </td>
                <td data-label="Branch">{b.repoBranch}</td>
                <td data-label="Revision">
                  <code title={b.repoRevision}>{shortRevision(b.repoRevision)}</code>
                </td>
                <td data-label="Age">{formatAge(b.insertedAt)}</td>
                <td data-label="Duration">{formatDuration(b.duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager pagination={all.data?.pagination} page={page} setPage={setPage} />
    </div>
  );
}

function Pager({ pagination, page, setPage }: { pagination: List<unknown>['pagination']; page: number; setPage: (n: number) => void }) {
  if (!pagination || pagination.totalPages <= 1) return null;
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>
        ← Newer
      </button>
      <span>
        page {pagination.page} of {pagination.totalPages}
      </span>
      <button type="button" disabled={page >= pagination.totalPages} onClick={() => setPage(page + 1)}>
        Older →
      </button>
    </nav>
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
      {res.data?.items.length ? (
        <table class="list releases">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Version</th>
              <th scope="col">Status</th>
              <th scope="col">By</th>
              <th scope="col">Age</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {res.data.items.map((r) => (
              <tr key={r.id}>
                <td data-label="Target">
                  <a href={pipelineUrl(pref, `releases/${encodeURIComponent(r.id)}`)}>
                    {r.name}
                    {r.action ? ` / ${r.action}` : ''}
                  </a>
                </td>
                <td data-label="Version">{r.releaseVersion}</td>
                <td data-label="Status">
                  <StatusBadge status={r.releaseStatus} /> <QueueNote run={r} />
                </td>
                <td data-label="By">{r.triggeredBy}</td>
                <td data-label="Age">{formatAge(r.insertedAt)}</td>
                <td data-label="Duration">{formatDuration(r.duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
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
      {triggers.map((t, i) => {
        const kind = ['pipeline', 'release', 'git', 'cron', 'pubsub', 'docker'].find((k) => k in t) ?? 'trigger';
        return (
          <li key={i} class="card">
            <strong>{kind}</strong>
            <pre>{JSON.stringify(t, null, 2)}</pre>
          </li>
        );
      })}
    </ul>
  );
}
