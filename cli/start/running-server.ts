/**
 * Where the running `estafette start` is, for the client commands (`trigger`, `builds`, `logs`):
 * while it runs, `estafette start` keeps `server.json` in its state folder — its URL, process id
 * and the generic webhook token it accepts (owner-readable only, like settings.json) — and notes
 * that folder in the per-user state (`$XDG_STATE_HOME/estafette/last-start.json`), so a command
 * run from any repository finds the server. Both are removed when it stops; a record whose
 * process is gone (a crash, kill -9) is ignored.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDirPath } from './state.ts';

/** What a running `estafette start` records about itself. */
export interface ServerRecord {
  url: string;
  pid: number;
  stateDir: string;
  webhookToken: string;
  startedAt: string;
}

const RECORD = 'server.json';
const POINTER = 'last-start.json';

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined; // absent, unreadable or half-written: no record
  }
}

/** True while process `pid` exists (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live record in state folder `dir`, or undefined. */
function liveRecord(dir: string): ServerRecord | undefined {
  const r = readJson(join(dir, RECORD));
  if (!r || typeof r.url !== 'string' || typeof r.pid !== 'number' || typeof r.webhookToken !== 'string' || !alive(r.pid)) return undefined;
  return { url: r.url, pid: r.pid, stateDir: dir, webhookToken: r.webhookToken, startedAt: String(r.startedAt ?? '') };
}

/**
 * Records this process as the server at `url` (in `stateDir` and in `userStateDir`); returns
 * the function that removes both records again, each only while it is still this process's.
 */
export function recordServer(stateDir: string, userStateDir: string, server: { url: string; webhookToken: string }): () => void {
  const record: ServerRecord = { url: server.url, pid: process.pid, stateDir, webhookToken: server.webhookToken, startedAt: new Date().toISOString() };
  const recordFile = join(stateDir, RECORD);
  writeFileSync(recordFile, JSON.stringify(record, null, 2), { mode: 0o600 });
  const pointerFile = join(userStateDir, POINTER);
  let pointed = false;
  try {
    mkdirSync(userStateDir, { recursive: true, mode: 0o700 });
    writeFileSync(pointerFile, JSON.stringify({ stateDir, pid: process.pid }, null, 2), { mode: 0o600 });
    pointed = true;
  } catch {
    // A read-only home only costs the lookup from other folders; the server runs on.
  }
  const ours = (file: string) => readJson(file)?.pid === process.pid;
  return () => {
    if (ours(recordFile)) rmSync(recordFile, { force: true });
    if (pointed && ours(pointerFile)) rmSync(pointerFile, { force: true });
  };
}

/**
 * The running server: the one recorded in this folder's state (ESTAFETTE_STATE_DIR or
 * ./.estafette), else the last one started by this user; undefined when neither runs.
 */
export function findRunningServer(userStateDir: string, env: NodeJS.ProcessEnv = process.env): ServerRecord | undefined {
  const here = liveRecord(stateDirPath(env));
  if (here) return here;
  const pointer = readJson(join(userStateDir, POINTER));
  if (!pointer || typeof pointer.stateDir !== 'string' || !existsSync(pointer.stateDir)) return undefined;
  const there = liveRecord(pointer.stateDir);
  return there && there.pid === pointer.pid ? there : undefined;
}

const LOCK = 'start.lock';

/**
 * Claims state folder `dir` for this process before anything starts in it (the database, the
 * server): one `estafette start` per folder. Throws a one-line Error naming the other one's pid
 * (and URL once it serves) while it runs; a lock left by a process that is gone (kill -9) is
 * taken over. Returns the function that releases the claim.
 */
export function claimStateDir(dir: string): () => void {
  const file = join(dir, LOCK);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid }), { flag: 'wx', mode: 0o600 });
      return () => {
        if (readJson(file)?.pid === process.pid) rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = readJson(file)?.pid;
    if (typeof pid === 'number' && pid !== process.pid && alive(pid)) {
      const url = liveRecord(dir)?.url;
      throw new Error(`another estafette start is running on ${dir} (pid ${pid}${url ? `, ${url}` : ', still starting'}); stop it first or set ESTAFETTE_STATE_DIR to another folder`);
    }
    // Left by a process that is gone (or half-written): take it over.
    rmSync(file, { force: true });
  }
  throw new Error(`cannot claim the state folder ${dir} (${LOCK} keeps changing)`);
}
