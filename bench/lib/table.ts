import type { Cell, Table } from './types.js';

/**
 * Plain-text tables: they end up in terminals, CI logs and pasted into
 * reports, so no colours and no box-drawing characters.
 */

/** Integers and large values get thousands separators; small fractions keep 2-3 significant digits. */
export function formatCell(value: Cell): string {
  if (value === null) return '-';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100 || Number.isInteger(value)) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01 || abs === 0) return value.toFixed(2);
  return value.toPrecision(2);
}

export function formatTable(table: Table): string {
  const cells = table.rows.map((row) => row.map(formatCell));
  const widths = table.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  // Numbers right-aligned so that magnitudes line up; the first column is a label.
  const numeric = (c: Cell | undefined): boolean => typeof c === 'number' || c === null;
  const line = (row: string[], raw: Cell[] | undefined): string =>
    row
      .map((c, i) => {
        const right = i > 0 && numeric((raw ?? table.rows[0])?.[i]);
        return right ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  const out = [`== ${table.title}`];
  for (const note of table.notes ?? []) out.push(`   ${note}`);
  out.push(line(table.columns, undefined));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  cells.forEach((row, r) => out.push(line(row, table.rows[r])));
  return out.join('\n');
}

/** a/b as a number for a ratio column; null when b is 0 (nothing to compare). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}
