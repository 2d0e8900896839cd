import type { DiffReport, EnvironmentDiff } from './diff';
import { isEmptyDiff, type FieldChange, type FileChange, type ObjectChange } from './semantic-diff';

/** Output formats of `siteforge diff`. */
export const DIFF_FORMATS = ['text', 'markdown', 'json'] as const;
export type DiffFormat = (typeof DIFF_FORMATS)[number];

export function formatDiff(report: DiffReport, format: DiffFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2);
    case 'markdown':
      return formatMarkdown(report);
    case 'text':
      return formatText(report);
  }
}

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

/** `added 1 · changed 2 · removed 0 objects, 3 files`: the one-line summary of an environment. */
export function summaryLine(e: EnvironmentDiff): string {
  if (e.error !== undefined) return `error: ${e.error}`;
  if (isEmptyDiff(e)) return 'no changes';
  const count = (c: string) => e.objects.filter((o) => o.change === c).length;
  const parts = [
    `${count('added')} added`,
    `${count('changed')} changed`,
    `${count('removed')} removed`,
  ];
  return `objects: ${parts.join(', ')}; files: ${e.files.length} changed`;
}

function objectName(o: ObjectChange): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

function value(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

function fieldLines(f: FieldChange, indent: string): string[] {
  if (!f.lines) return [`${indent}${fieldLine(f)}`];
  return [`${indent}${f.path}:`, ...f.lines.map((l) => `${indent}  ${l.change === 'added' ? '+' : '-'}${String(l.line).padStart(4)}: ${l.text}`)];
}

function fieldLine(f: FieldChange): string {
  if (f.change === 'added') return `${f.path}: + ${value(f.new)}`;
  if (f.change === 'removed') return `${f.path}: - ${value(f.old)}`;
  return `${f.path}: ${value(f.old)} → ${value(f.new)}`;
}

/** The detail lines of one environment, indented by `indent`. */
function detailLines(e: EnvironmentDiff, indent: string): string[] {
  const lines: string[] = [];
  for (const o of e.objects) {
    lines.push(`${indent}${SIGN[o.change]} ${objectName(o)}  (${o.file})`);
    for (const f of o.fields) lines.push(...fieldLines(f, `${indent}    `));
  }
  for (const file of e.files) lines.push(...fileLines(file, indent));
  return lines;
}

function fileLines(file: FileChange, indent: string): string[] {
  const lines = [`${indent}${SIGN[file.change]} ${file.path}`];
  for (const f of file.fields) lines.push(...fieldLines(f, `${indent}    `));
  for (const l of file.lines) lines.push(`${indent}    ${l.change === 'added' ? '+' : '-'}${String(l.line).padStart(4)}: ${l.text}`);
  return lines;
}

function heading(e: EnvironmentDiff): string {
  return `${e.site}/${e.env}`;
}

function formatText(report: DiffReport): string {
  const out: string[] = [];
  for (const e of report.environments) {
    out.push(`${heading(e)} (${e.remote} ${e.against}${e.commit ? ` @ ${e.commit}` : ''}): ${summaryLine(e)}`);
    out.push(...detailLines(e, '  '));
  }
  const changed = report.environments.filter((e) => e.error !== undefined || !isEmptyDiff(e)).length;
  out.push(`${changed} of ${report.environments.length} environments differ`);
  return out.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function formatMarkdown(report: DiffReport): string {
  const out: string[] = ['## siteforge diff', ''];
  const changed = report.environments.filter((e) => e.error !== undefined || !isEmptyDiff(e));
  out.push('| environment | compared with | result |', '|---|---|---|');
  for (const e of report.environments) {
    out.push(`| ${cell(heading(e))} | ${cell(`${e.against}${e.commit ? ` @ ${e.commit}` : ''}`)} | ${cell(summaryLine(e))} |`);
  }
  for (const e of changed) {
    out.push('', `### ${heading(e)}`, '');
    if (e.error !== undefined) {
      out.push(`**error:** ${cell(e.error)}`);
      continue;
    }
    out.push('| change | kind | namespace | name | fields |', '|---|---|---|---|---|');
    for (const o of e.objects) {
      out.push(`| ${o.change} | ${cell(o.kind)} | ${cell(o.namespace ?? '')} | ${cell(o.name)} | ${o.fields.length} |`);
    }
    for (const f of e.files) {
      out.push(`| ${f.change} | file | | ${cell(f.path)} | ${f.fields.length + f.lines.length} |`);
    }
    out.push('', '<details><summary>details</summary>', '', '```diff', ...detailLines(e, '').map((l) => l.replace(/```/g, "'''")), '```', '', '</details>');
  }
  out.push('', `${changed.length} of ${report.environments.length} environments differ.`);
  return out.join('\n');
}
