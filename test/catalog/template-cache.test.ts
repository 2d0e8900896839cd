import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../catalog/templates';
import { UserError } from '../../constructs/errors';
import { tempDir } from '../helpers';

/** The files kept under `cacheDir` (one subfolder per handlebars version). */
function kept(cacheDir: string): string[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

/** The error `parseTemplate` throws for `text`. */
function refusal(text: string, name: string, cacheDir: string): unknown {
  try {
    parseTemplate(text, name, cacheDir);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('parsed catalog templates kept per installation', () => {
  it('reads a template parsed before from what was kept, and parses a changed text anew', () => {
    // GIVEN a template, parsed once
    const cacheDir = join(tempDir(), 'templates');
    expect(parseTemplate('host: {{host}}', 'app.conf.hbs', cacheDir).render({ host: 'db-1' })).toBe('host: db-1');
    // WHEN what was kept for it is the tree of another text, THEN the next parse renders that: the text was not parsed again
    const [keptFile] = kept(cacheDir);
    parseTemplate('port: {{port}}', 'other.conf.hbs', cacheDir);
    const other = kept(cacheDir).find((f) => f !== keptFile)!;
    writeFileSync(keptFile, readFileSync(other));
    expect(parseTemplate('host: {{host}}', 'app.conf.hbs', cacheDir).render({ port: 5432 })).toBe('port: 5432');
    // AND a changed text is parsed, whatever was kept for the old one
    expect(parseTemplate('host: {{host}}:{{port}}', 'app.conf.hbs', cacheDir).render({ host: 'db-1', port: 5432 })).toBe('host: db-1:5432');
    expect(kept(cacheDir)).toHaveLength(3);
  });

  it('renders from a kept tree what it renders from a parse: whitespace control, blocks, comments, helpers', () => {
    const cacheDir = join(tempDir(), 'templates');
    const text = [
      '{{!-- the nodes --}}',
      'nodes:',
      '{{#each nodes}}',
      '  - {{yaml this}}',
      '{{/each}}',
      'tls: {{~#if tls}} {{yaml true}}{{else}} {{yaml false}}{{/if}}',
      'url: {{yaml (concat "https://" host ":" port)}}',
      '',
    ].join('\n');
    const context = { nodes: ['es-0', 'es-1'], tls: false, host: 'es.acme', port: 9200 };
    const parsed = parseTemplate(text, 'values.yaml.hbs', cacheDir).render(context);
    expect(kept(cacheDir)).toHaveLength(1);
    expect(parseTemplate(text, 'values.yaml.hbs', cacheDir).render(context)).toBe(parsed);
    expect(parsed).toBe('nodes:\n  - "es-0"\n  - "es-1"\ntls: false\nurl: "https://es.acme:9200"\n');
  });

  it('checks a kept tree as it checks a parsed one: what is refused is refused every time', () => {
    const cacheDir = join(tempDir(), 'templates');
    for (let i = 0; i < 2; i++) {
      const error = refusal('name: {{name}}\n', 'catalog/portal/values.yaml.hbs', cacheDir);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe('catalog/portal/values.yaml.hbs:1: YAML templates insert values only as {{yaml value}}, found {{name}}');
    }
  });

  it('reports a template that does not parse every time, and keeps nothing for it', () => {
    const cacheDir = join(tempDir(), 'templates');
    for (let i = 0; i < 2; i++) {
      const error = refusal('{{#if tls}}on\n', 'catalog/portal/app.conf.hbs', cacheDir);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/^catalog\/portal\/app\.conf\.hbs:\d+: template syntax error: /);
    }
    expect(kept(cacheDir)).toStrictEqual([]);
  });

  it('keeps no tree JSON cannot hold, and still renders it right', () => {
    // A number literal too large for a double is Infinity, which JSON would write as null.
    const cacheDir = join(tempDir(), 'templates');
    const text = `{{yaml (concat "limit=" ${'9'.repeat(400)})}}`;
    for (let i = 0; i < 2; i++) expect(parseTemplate(text, 'app.conf.hbs', cacheDir).render({})).toBe('"limit=Infinity"');
    expect(kept(cacheDir)).toStrictEqual([]);
  });

  it('parses where nothing can be kept', () => {
    const blocked = join(tempDir(), 'a-file');
    writeFileSync(blocked, '');
    for (let i = 0; i < 2; i++) expect(parseTemplate('host: {{host}}', 'app.conf.hbs', join(blocked, 'templates')).render({ host: 'db-1' })).toBe('host: db-1');
  });
});
