/**
 * The `when` language of Estafette stages: the govaluate subset Estafette manifests use —
 * `==`, `!=`, `&&`, `||`, `!`, `=~`, `!~` (unanchored regex match, as govaluate), parentheses,
 * single- or double-quoted strings, `true`/`false` and parameters (`status`, `branch`, `action`,
 * `trigger`, `event`, `server`, or any other name the caller passes). A small recursive-descent parser over
 * a tokenizer; manifest text is never handed to `eval` or `new Function`. Parameters are always
 * strings, so types are checked statically: a parse, type or unknown-name problem is found by
 * `checkWhen` before any build runs. `whenParams`/`decideWhen` are how a run decides a stage's
 * `when` (the parameters the builder passes), shared with `estafette plan`.
 *
 * One function exists: `changed('glob', …)`, true when a file changed by the push matches any of
 * the globs (shared/manifest/globs.ts) — or when the changed files are unknown (no before
 * revision: a new branch, a rebuild, a cron or trigger run), so such runs run everything.
 */

import type { Plan } from '../plan/types.ts';
import { checkGlob, globMatcher } from './globs.ts';
import { compileUserRegex } from './regex.ts';

/** The parameters every stage's `when` can use. */
const WHEN_PARAMS = ['status', 'branch', 'action', 'trigger', 'event', 'server'] as const;

/**
 * The `event` parameter of a run: what happened in git for runs a forge caused — `push`, `tag`
 * or `pull_request` — else the trigger event (`manual`, `cron`, `pipeline`, `release`, …), so
 * `when: event == 'pull_request'` tells pull request builds apart.
 */
export function whenEvent(estafetteEnv: Record<string, string>): string {
  const trigger = estafetteEnv.ESTAFETTE_TRIGGER_EVENT ?? '';
  if (trigger === 'git') return estafetteEnv.ESTAFETTE_TRIGGER_GIT_EVENT || 'push';
  return trigger;
}

/** The functions a `when` can call: `changed('glob', …)`. */
const WHEN_FUNCTIONS = ['changed'] as const;

/** What the functions of a `when` see of the run: the files its push changed, when known. */
export interface WhenChanges {
  /** Changed paths relative to the repository root; undefined = unknown (everything counts as changed). */
  files?: readonly string[];
}

/** A `when` expression that cannot be parsed or evaluated; `position` is a 0-based offset. */
export class WhenError extends Error {
  constructor(
    message: string,
    readonly position?: number,
  ) {
    super(position === undefined ? message : `${message} at position ${position}`);
    this.name = 'WhenError';
  }
}

export type WhenComparison = '==' | '!=' | '=~' | '!~';

/** The parsed form of a `when` expression. */
export type WhenAst =
  | { kind: 'string'; value: string; position: number }
  | { kind: 'bool'; value: boolean; position: number }
  | { kind: 'param'; name: string; position: number }
  | { kind: 'not'; operand: WhenAst; position: number }
  | { kind: 'logical'; op: '&&' | '||'; left: WhenAst; right: WhenAst; position: number }
  | { kind: 'compare'; op: WhenComparison; left: WhenAst; right: WhenAst; position: number }
  | { kind: 'call'; name: string; args: WhenAst[]; position: number };

type Token =
  | { t: 'string'; value: string; pos: number }
  | { t: 'ident'; value: string; pos: number }
  | { t: 'op'; value: '==' | '!=' | '=~' | '!~' | '&&' | '||' | '!' | '(' | ')' | ','; pos: number }
  | { t: 'end'; pos: number };

// Bounds keep a hostile manifest from exhausting the stack or the CPU.
const MAX_LENGTH = 4096;
const MAX_DEPTH = 64;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new WhenError('unterminated string', start);
        const d = src[i]!;
        if (d === '\\' && i + 1 < src.length) {
          value += src[i + 1];
          i += 2;
          continue;
        }
        if (d === c) break;
        value += d;
        i++;
      }
      i++;
      tokens.push({ t: 'string', value, pos: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      tokens.push({ t: 'ident', value: src.slice(start, i), pos: start });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '=~' || two === '!~' || two === '&&' || two === '||') {
      tokens.push({ t: 'op', value: two, pos: i });
      i += 2;
      continue;
    }
    if (c === '!' || c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'op', value: c, pos: i });
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) throw new WhenError('numbers are not supported; quote the value', i);
    throw new WhenError(`unexpected character '${c}'`, i);
  }
  tokens.push({ t: 'end', pos: src.length });
  return tokens;
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.value === v;
  }

  parse(): WhenAst {
    const ast = this.or();
    const t = this.peek();
    if (t.t !== 'end') throw new WhenError(`unexpected ${describe(t)}`, t.pos);
    return ast;
  }

  private or(): WhenAst {
    let left = this.and();
    while (this.isOp('||')) {
      const pos = this.peek().pos;
      this.i++;
      left = { kind: 'logical', op: '||', left, right: this.and(), position: pos };
    }
    return left;
  }

  private and(): WhenAst {
    let left = this.comparison();
    while (this.isOp('&&')) {
      const pos = this.peek().pos;
      this.i++;
      left = { kind: 'logical', op: '&&', left, right: this.comparison(), position: pos };
    }
    return left;
  }

  private comparison(): WhenAst {
    const left = this.unary();
    const t = this.peek();
    if (t.t === 'op' && (t.value === '==' || t.value === '!=' || t.value === '=~' || t.value === '!~')) {
      this.i++;
      const right = this.unary();
      const next = this.peek();
      if (next.t === 'op' && ['==', '!=', '=~', '!~'].includes(next.value)) {
        throw new WhenError('chained comparison; use parentheses and && / ||', next.pos);
      }
      return { kind: 'compare', op: t.value, left, right, position: t.pos };
    }
    return left;
  }

  // govaluate's prefix `!` binds tighter than comparisons: `!a == b` is `(!a) == b`.
  private unary(): WhenAst {
    if (this.isOp('!')) {
      const pos = this.peek().pos;
      this.i++;
      return { kind: 'not', operand: this.nested(() => this.unary()), position: pos };
    }
    return this.primary();
  }

  private nested(f: () => WhenAst): WhenAst {
    if (++this.depth > MAX_DEPTH) throw new WhenError('expression nested too deeply', this.peek().pos);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private primary(): WhenAst {
    const t = this.peek();
    if (t.t === 'string') {
      this.i++;
      return { kind: 'string', value: t.value, position: t.pos };
    }
    if (t.t === 'ident') {
      this.i++;
      if (this.isOp('(')) return this.call(t.value, t.pos);
      if (t.value === 'true' || t.value === 'false') return { kind: 'bool', value: t.value === 'true', position: t.pos };
      return { kind: 'param', name: t.value, position: t.pos };
    }
    if (this.isOp('(')) {
      this.i++;
      const inner = this.nested(() => this.or());
      if (!this.isOp(')')) throw new WhenError(`expected ')' but found ${describe(this.peek())}`, this.peek().pos);
      this.i++;
      return inner;
    }
    throw new WhenError(t.t === 'end' ? 'unexpected end of expression' : `unexpected ${describe(t)}`, t.pos);
  }

  /** `name(arg, …)` after its name; the types of the arguments are checked by typeOf. */
  private call(name: string, pos: number): WhenAst {
    this.i++; // '('
    const args: WhenAst[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.nested(() => this.or()));
        if (!this.isOp(',')) break;
        this.i++;
      }
    }
    if (!this.isOp(')')) throw new WhenError(`expected ',' or ')' in the arguments of ${name}() but found ${describe(this.peek())}`, this.peek().pos);
    this.i++;
    return { kind: 'call', name, args, position: pos };
  }
}

function describe(t: Token): string {
  if (t.t === 'end') return 'end of expression';
  if (t.t === 'string') return `string '${t.value}'`;
  return `'${t.value}'`;
}

/** Parses an expression into its AST; throws WhenError (with position) on a syntax error. */
export function parseWhen(expr: string): WhenAst {
  if (typeof expr !== 'string') throw new WhenError('expression must be a string');
  if (expr.length > MAX_LENGTH) throw new WhenError(`expression longer than ${MAX_LENGTH} characters`);
  if (expr.trim() === '') throw new WhenError('empty expression');
  return new Parser(tokenize(expr)).parse();
}

type WhenType = 'string' | 'boolean';

/** Static type of an AST node; throws WhenError on a type error or an unknown parameter. */
function typeOf(ast: WhenAst, known: ReadonlySet<string>): WhenType {
  switch (ast.kind) {
    case 'string':
      return 'string';
    case 'bool':
      return 'boolean';
    case 'param':
      if (!known.has(ast.name)) throw new WhenError(`unknown parameter '${ast.name}' (known: ${[...known].join(', ')})`, ast.position);
      return 'string';
    case 'not':
      if (typeOf(ast.operand, known) !== 'boolean') throw new WhenError("'!' needs a boolean operand", ast.position);
      return 'boolean';
    case 'logical':
      for (const side of [ast.left, ast.right]) {
        if (typeOf(side, known) !== 'boolean') throw new WhenError(`'${ast.op}' needs boolean operands`, side.position);
      }
      return 'boolean';
    case 'compare': {
      const l = typeOf(ast.left, known);
      const r = typeOf(ast.right, known);
      if (ast.op === '=~' || ast.op === '!~') {
        if (l !== 'string' || r !== 'string') throw new WhenError(`'${ast.op}' needs string operands`, ast.position);
        if (ast.right.kind === 'string') compileRegex(ast.right.value, ast.right.position);
      } else if (l !== r) {
        throw new WhenError(`'${ast.op}' compares a ${l} with a ${r}`, ast.position);
      }
      return 'boolean';
    }
    case 'call':
      return callType(ast, known);
  }
}

/** Checks a call: a known function with string-literal globs (so they are linted before any run). */
function callType(ast: Extract<WhenAst, { kind: 'call' }>, known: ReadonlySet<string>): WhenType {
  if (!(WHEN_FUNCTIONS as readonly string[]).includes(ast.name)) {
    throw new WhenError(`unknown function '${ast.name}' (known: ${WHEN_FUNCTIONS.map((f) => `${f}()`).join(', ')})`, ast.position);
  }
  if (ast.args.length === 0) throw new WhenError(`${ast.name}() needs at least one glob, e.g. ${ast.name}('src/**')`, ast.position);
  for (const a of ast.args) {
    if (a.kind !== 'string') {
      typeOf(a, known);
      throw new WhenError(`the arguments of ${ast.name}() must be quoted globs`, a.position);
    }
    const problem = checkGlob(a.value);
    if (problem) throw new WhenError(problem, a.position);
  }
  return 'boolean';
}

function compileRegex(pattern: string, position: number): RegExp {
  try {
    return compileUserRegex(pattern);
  } catch (err) {
    throw new WhenError(`invalid regular expression '${pattern}': ${(err as Error).message}`, position);
  }
}

/**
 * Replaces `${ESTAFETTE_*}` references with values from env (empty when unset), as Estafette does
 * before evaluating; any other `${...}` is left untouched.
 */
export function expandEstafetteVars(expr: string, env: Record<string, string> = {}): string {
  return expr.replace(/\$\{(ESTAFETTE_[A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '');
}

/**
 * The lint message for an expression, or undefined when it is valid: a syntax error, an unknown
 * parameter, a type error or a result that is not a boolean (e.g. a bare string).
 */
export function checkWhen(expr: string, params: readonly string[] = WHEN_PARAMS): string | undefined {
  try {
    const ast = parseWhen(expandEstafetteVars(expr));
    if (typeOf(ast, new Set(params)) !== 'boolean') return 'expression does not evaluate to a boolean';
    return undefined;
  } catch (err) {
    if (err instanceof WhenError) return err.message;
    throw err;
  }
}

function evalNode(ast: WhenAst, params: Record<string, string>, changes: WhenChanges = {}): string | boolean {
  switch (ast.kind) {
    case 'string':
    case 'bool':
      return ast.value;
    case 'param':
      return params[ast.name]!;
    case 'not':
      return !evalNode(ast.operand, params, changes);
    case 'logical': {
      const l = evalNode(ast.left, params, changes) as boolean;
      if (ast.op === '&&') return l && (evalNode(ast.right, params, changes) as boolean);
      return l || (evalNode(ast.right, params, changes) as boolean);
    }
    case 'call': {
      // Only changed() exists (checked by typeOf). Unknown changes: run what depends on them.
      if (changes.files === undefined) return true;
      return changes.files.some(globMatcher(ast.args.map((a) => (a as { value: string }).value)));
    }
    case 'compare': {
      const l = evalNode(ast.left, params, changes);
      const r = evalNode(ast.right, params, changes);
      if (ast.op === '==') return l === r;
      if (ast.op === '!=') return l !== r;
      const matched = compileRegex(r as string, ast.right.position).test(l as string);
      return ast.op === '=~' ? matched : !matched;
    }
  }
}

/**
 * Evaluates an expression with the given parameters after expanding `${ESTAFETTE_*}` from env;
 * `changed(…)` looks at `changes` (absent or without files: every file counts as changed).
 * Throws WhenError on a parse error, an unknown parameter, a type error or a non-boolean result.
 */
export function evaluateWhen(expr: string, params: Record<string, string>, env: Record<string, string> = {}, changes: WhenChanges = {}): boolean {
  const ast = parseWhen(expandEstafetteVars(expr, env));
  if (typeOf(ast, new Set(Object.keys(params))) !== 'boolean') throw new WhenError('expression does not evaluate to a boolean');
  return evalNode(ast, params, changes) as boolean;
}

/** The status a `when` sees: `succeeded` until a stage failed, then `failed`. */
export type WhenStatus = 'succeeded' | 'failed';

/**
 * The parameters of a stage's `when` in a run of plan (what the builder passes): the status so
 * far, the branch, the release action, the trigger event, the git event (`whenEvent`) and the
 * server name.
 */
export function whenParams(plan: Pick<Plan, 'branch' | 'action' | 'estafetteEnv'>, status: WhenStatus): Record<string, string> {
  return {
    status,
    branch: plan.branch,
    action: plan.action ?? '',
    trigger: plan.estafetteEnv.ESTAFETTE_TRIGGER_EVENT ?? '',
    event: whenEvent(plan.estafetteEnv),
    server: 'estafette',
  };
}

/**
 * Whether a stage or service with this `when` and env runs at this status in a run of plan, or
 * the error message of an invalid expression (which fails the stage). Empty `when` is the default.
 * `changed(…)` sees the plan's changes (the builder fills in their files after git-clone).
 */
export function decideWhen(plan: Pick<Plan, 'branch' | 'action' | 'estafetteEnv' | 'changes'>, when: string, env: Record<string, string>, status: WhenStatus): boolean | string {
  try {
    return evaluateWhen(when.trim() || "status == 'succeeded'", whenParams(plan, status), { ...plan.estafetteEnv, ...env, ESTAFETTE_BUILD_STATUS: status }, plan.changes);
  } catch (err) {
    return `invalid when '${when}': ${(err as Error).message}`;
  }
}
