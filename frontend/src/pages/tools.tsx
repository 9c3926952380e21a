/**
 * Tools: the manifest validator (paste a .estafette.yaml → every problem with its field path)
 * and the secret encrypt form (→ an `estafette.secret(...)` value to paste into a manifest).
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api/client.ts';
import type { ValidationResult } from '../api/types.ts';
import { ErrorBox } from '../components/feedback.tsx';
import { useLocation } from '../router.ts';
import { StatusBadge } from '../components/status-badge.tsx';

const EXAMPLE = `builder:
  track: stable
labels:
  app: my-app
version:
  semver:
    major: 1
    minor: 0
stages:
  build:
    image: node:20-alpine
    commands:
    - npm ci
    - npm test
releases:
  production:
    stages:
      deploy:
        image: alpine
        commands:
        - echo deploying \${ESTAFETTE_BUILD_VERSION}
`;

/** The tools page. */
export function ToolsPage() {
  return (
    <section>
      <h1>Tools</h1>
      <div class="tools">
        <Validator />
        <Encrypt />
      </div>
    </section>
  );
}

function Validator() {
  const [manifest, setManifest] = useState(EXAMPLE);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ValidationResult | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setResult(await api<ValidationResult>('/api/manifest/validate', { method: 'POST', body: { manifest } }));
    } catch (err) {
      setResult(undefined);
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setBusy(false);
    }
  };
  const warnings = (result?.warnings ?? []).map((w) => (typeof w === 'string' ? { message: w } : w));
  return (
    <form class="card tool" onSubmit={submit} aria-labelledby="validate-h">
      <h2 id="validate-h">Validate a manifest</h2>
      <label for="manifest">
        Paste a <code>.estafette.yaml</code>
      </label>
      <textarea id="manifest" name="manifest" rows={16} spellcheck={false} value={manifest} onInput={(e) => setManifest(e.currentTarget.value)} />
      <div class="form-buttons">
        <button type="submit" class="primary" disabled={busy || !manifest.trim()}>
          {busy ? 'Validating…' : 'Validate'}
        </button>
      </div>
      {error ? <ErrorBox error={error} context="Validation failed to run" /> : null}
      {result ? (
        <div class="validation" role="status" aria-live="polite">
          <p>
            <StatusBadge status={result.status} /> {result.status === 'succeeded' ? 'The manifest is valid.' : `${result.errors.length} problem${result.errors.length === 1 ? '' : 's'} found.`}
          </p>
          {result.errors.length ? (
            <ul class="problems">
              {result.errors.map((e, i) => (
                <li key={i} class="problem error">
                  <code class="field">{e.field || '(document)'}</code> <span>{e.message}</span>
                </li>
              ))}
            </ul>
          ) : null}
          {warnings.length ? (
            <ul class="problems">
              {warnings.map((w, i) => (
                <li key={i} class="problem warning">
                  <span aria-hidden="true">⚠</span> <span class="visually-hidden">warning:</span> {w.field ? <code class="field">{w.field}</code> : null} {w.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

function Encrypt() {
  const { query } = useLocation();
  const [pipeline, setPipeline] = useState(query.get('pipeline') ?? '');
  const [value, setValue] = useState('');
  const [base64, setBase64] = useState(false);
  const [double, setDouble] = useState(false);
  const [allow, setAllow] = useState('');
  const [busy, setBusy] = useState(false);
  const [secret, setSecret] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [copied, setCopied] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setCopied(false);
    try {
      const body = { value, base64, double, ...(pipeline.trim() ? { pipeline: pipeline.trim() } : {}), ...(allow.trim() ? { pipelineAllowList: allow.trim() } : {}) };
      setSecret((await api<{ secret: string }>('/api/manifest/encrypt', { method: 'POST', body })).secret);
    } catch (err) {
      setSecret(undefined);
      setError(err instanceof ApiError ? err : new ApiError(0, String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card tool" onSubmit={submit} aria-labelledby="encrypt-h">
      <h2 id="encrypt-h">Encrypt a secret</h2>
      <label for="secret-value">Value</label>
      <textarea id="secret-value" name="value" rows={3} spellcheck={false} autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <label class="check">
        <input type="checkbox" checked={base64} onChange={(e) => setBase64(e.currentTarget.checked)} /> The value is base64 encoded
      </label>
      <label class="check">
        <input type="checkbox" checked={double} onChange={(e) => setDouble(e.currentTarget.checked)} /> Double encrypt (for a secret used in a secret)
      </label>
      <label for="secret-pipeline">Pipeline it is for</label>
      <input id="secret-pipeline" type="text" value={pipeline} placeholder="github.com/my-org/my-repo" onInput={(e) => setPipeline(e.currentTarget.value)} />
      <label for="allow">Pipelines allowed to use it (regular expression)</label>
      <input id="allow" type="text" value={allow} placeholder="github.com/my-org/.*" aria-describedby="allow-help" onInput={(e) => setAllow(e.currentTarget.value)} />
      <p id="allow-help" class="help muted">
        Empty: only the pipeline above may use the secret. <code>.*</code>: every pipeline. A pattern must match the whole name (<code>source/owner/repo</code>).
      </p>
      <div class="form-buttons">
        <button type="submit" class="primary" disabled={busy || !value || (!pipeline.trim() && !allow.trim())}>
          {busy ? 'Encrypting…' : 'Encrypt'}
        </button>
      </div>
      {error ? <ErrorBox error={error} context="Encryption failed" /> : null}
      {secret ? (
        <div class="secret-out">
          <label for="secret-out">Paste this into the manifest</label>
          <textarea id="secret-out" readOnly rows={3} value={secret} onFocus={(e) => e.currentTarget.select()} />
          <button
            type="button"
            onClick={async () => {
              await navigator.clipboard?.writeText(secret).catch(() => undefined);
              setCopied(true);
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      ) : null}
    </form>
  );
}
