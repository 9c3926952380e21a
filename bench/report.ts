/**
 * How every benchmark records its results: a markdown table printed to the terminal and a
 * section of docs/PERFORMANCE.md replaced in place (between `<!-- bench:<name> -->` and
 * `<!-- /bench:<name> -->`), so the document keeps the latest run of each benchmark together with
 * the machine, the command and the date, and other sections are never touched.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** docs/PERFORMANCE.md of this checkout (overridable with BENCH_REPORT for dry runs). */
export const reportPath = process.env.BENCH_REPORT ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'PERFORMANCE.md');

const HEADER = `# Performance

Benchmarks live in \`bench/\`; \`npm run bench\` runs every one at a quick size, \`npm run bench -- --full\`
at the sizes below, \`npm run bench -- --only <name>\` one of them. Each section is rewritten by the
latest run of its benchmark and every figure sits next to a baseline measured in the same run, so ratios
hold on a noisy machine.
`;

/** Replaces the section `name` in `doc` (or appends it when absent); pure, for tests and reuse. */
export function replaceSection(doc: string, name: string, markdown: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`bench section name must be kebab-case: ${name}`);
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${markdown.trim()}\n${close}`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(close);
  if (start !== -1 && end > start) return doc.slice(0, start) + block + doc.slice(end + close.length);
  return `${doc.replace(/\s*$/, '')}\n\n${block}\n`;
}

/**
 * Writes `markdown` as the section `name` of docs/PERFORMANCE.md, replacing the previous run's
 * section and leaving every other section as it is. Written through a temp file and rename so two
 * benchmarks finishing together never leave a half-written document.
 */
export function writeSection(name: string, markdown: string): void {
  const doc = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : HEADER;
  const tmp = `${reportPath}.${process.pid}.tmp`;
  writeFileSync(tmp, replaceSection(doc, name, markdown));
  renameSync(tmp, reportPath);
}

/** One line describing where the figures were measured: cpu model, cores, memory, node, date. */
export function machineLine(now = new Date()): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown cpu';
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return `${model}, ${cpus.length} cores, ${memGiB} GiB RAM, ${os.platform()} ${os.release()}, node ${process.version}, ${now.toISOString().replace(/\.\d+Z$/, 'Z')}`;
}

/** The command line that produced a run, as a reader would type it. */
export function commandLine(argv = process.argv.slice(2)): string {
  return ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
}

/** A markdown table; cells are stringified and `|` escaped so any value is safe. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
  const line = (cells: Array<string | number>) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Standard body of a section: title, machine/command/date lines, then the bench's own markdown. */
export function section(title: string, body: string, argv = process.argv.slice(2)): string {
  return `## ${title}\n\n- Machine: ${machineLine()}\n- Command: \`${commandLine(argv)}\`\n\n${body.trim()}\n`;
}

/** Milliseconds with a sensible number of digits for tables. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** The q-quantile (0..1) of `values` by nearest rank; NaN for an empty list. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
