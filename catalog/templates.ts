import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Template } from '../constructs/service-definition';
import { UserError } from '../constructs/errors';
import { templateKind, type TemplateKind } from '../constructs/template-kind';
import { keepFile } from './kept-file';

/*
 * Templates come in two kinds. YAML templates (`*.yaml.hbs`, `*.yml.hbs`) may insert values
 * only through `{{yaml value}}`, which writes a JSON scalar or collection (valid YAML), so a
 * value holding a newline or a YAML indicator cannot inject keys. Text templates insert values
 * as they are. Both are compiled in strict mode (a missing variable is an error), without
 * HTML escaping, with no helpers but `yaml`, `(concat a b ...)` and the built-in block
 * helpers, no partials, and no
 * access to `constructor`, `__proto__` or `prototype`.
 */

const BLOCK_HELPERS = new Set(['if', 'unless', 'each', 'with']);
const FORBIDDEN_PARTS = new Set(['constructor', '__proto__', 'prototype', '__defineGetter__', '__defineSetter__', '__lookupGetter__']);

const handlebars = Handlebars.create();
handlebars.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).map((a) => {
  if (a === undefined || a === null) throw new Error('concat: a value is undefined');
  return String(a);
}).join(''));
handlebars.registerHelper('yaml', (value: unknown, options: { loc?: { start: { line: number; column: number } } }) => {
  if (value === undefined) {
    // Strict mode does not check helper arguments; the location suffix is what compileTemplate reads.
    throw new Error(`yaml: value is undefined - ${options.loc?.start.line ?? 0}:${options.loc?.start.column ?? 0}`);
  }
  return JSON.stringify(value);
});

/** The handlebars version, which decides what a parse gives: a subfolder of the cache each. */
const PARSER = (createRequire(import.meta.url)('handlebars/package.json') as { version: string }).version;

/** Where siteforge keeps the syntax trees of catalog templates by default, beside the parsed YAML. */
export const TEMPLATE_CACHE_DIR = fileURLToPath(new URL('../node_modules/.cache/siteforge/templates', import.meta.url));

/** A template's text parsed once: the path checks read its syntax tree, synth calls render. */
export interface ParsedTemplate {
  readonly ast: hbs.AST.Program;
  readonly render: Template;
}

/**
 * Where a template was read from: a file (its kind from its name), or a value inside one,
 * whose name is made only for an error, since it holds a line number that costs parsing the
 * file's text again (see readYamlFile).
 */
export type TemplateOrigin = string | { readonly name: () => string; readonly kind: TemplateKind };

/** Compiles `source`, read from `file` (the name errors give). */
export function compileTemplate(source: string, file: TemplateOrigin): Template {
  return parseTemplate(source, file).render;
}

/**
 * Parses, checks and compiles `source`, read from `origin` (the name errors give). The syntax
 * tree comes from `cacheDir` when this text was parsed before (see syntaxTree).
 * @param cacheDir @default TEMPLATE_CACHE_DIR
 */
export function parseTemplate(source: string, origin: TemplateOrigin, cacheDir: string = TEMPLATE_CACHE_DIR): ParsedTemplate {
  const nameOf = typeof origin === 'string' ? () => origin : origin.name;
  const kind = typeof origin === 'string' ? templateKind(origin) : origin.kind;
  // handlebars also compiles a ready-made AST object, the path behind its code-execution
  // advisories: only text read from a file is ever compiled, or the tree its parse gave.
  if (typeof source !== 'string') throw new UserError(`${nameOf()}: a template must be text, got ${typeof source}`);
  const ast = syntaxTree(source, nameOf, cacheDir);
  checkNodes(ast, nameOf, kind);
  const compiled = handlebars.compile(ast, {
    strict: true,
    noEscape: true,
    knownHelpersOnly: true,
    knownHelpers: { yaml: true, concat: true },
  });
  const render: Template = (context: object) => {
    try {
      return compiled(context, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false });
    } catch (e) {
      const message = (e as Error).message;
      const match = / - (\d+):\d+$/.exec(message);
      const text = message.replace(/ - \d+:\d+$/, '').replace(/ in \[object Object\]$/, '');
      throw new UserError(`${nameOf()}${match ? `:${match[1]}` : ''}: ${text}`);
    }
  };
  return { ast, render };
}

/**
 * The syntax tree of `source`, parsed once per installation and text: kept as JSON under
 * `cacheDir` (a subfolder per handlebars version, one file per hash of the text), since
 * parsing the catalog's templates costs a thread about 40 ms and reading them back about 5 ms.
 * What is kept there is trusted as siteforge's compiled validators beside it are (they are
 * code). A text that does not parse is never kept, so its error is reported every time, and
 * neither is a tree JSON cannot hold (a number literal of more than 308 digits, which is
 * Infinity; handlebars reads `1e999` as a path, not a number). A folder that cannot be
 * written only costs the parse.
 */
function syntaxTree(source: string, nameOf: () => string, cacheDir: string): hbs.AST.Program {
  const kept = join(cacheDir, PARSER, `${createHash('sha256').update(source).digest('base64url')}.json`);
  try {
    return JSON.parse(readFileSync(kept, 'utf8')) as hbs.AST.Program;
  } catch {
    // Not kept yet, or unreadable: parsed and kept below.
  }
  let ast: hbs.AST.Program;
  try {
    ast = handlebars.parse(source);
  } catch (e) {
    const message = (e as Error).message;
    const line = /on line (\d+)/.exec(message)?.[1];
    throw new UserError(`${nameOf()}${line ? `:${line}` : ''}: template syntax error: ${message.split('\n').pop()}`);
  }
  let exact = true;
  // Fields left undefined are left out, as the compiler reads them; a number JSON would change is not.
  const json = JSON.stringify(ast, (_key, value: unknown) => {
    if (typeof value === 'number' && !Number.isFinite(value)) exact = false;
    return value;
  });
  if (exact) keepFile(kept, json);
  return ast;
}

function checkNodes(node: hbs.AST.Node, nameOf: () => string, kind: TemplateKind): void {
  const fail = (n: hbs.AST.Node, message: string): never => {
    throw new UserError(`${nameOf()}:${n.loc?.start.line ?? 0}: ${message}`);
  };
  const visit = (n: hbs.AST.Node | undefined | null): void => {
    if (!n) return;
    switch (n.type) {
      case 'Program':
        (n as hbs.AST.Program).body.forEach(visit);
        break;
      case 'MustacheStatement': {
        const m = n as hbs.AST.MustacheStatement;
        const helper = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : '';
        if (kind === 'yaml' && (helper !== 'yaml' || m.params.length !== 1)) {
          fail(n, `YAML templates insert values only as {{yaml value}}, found {{${helper}${m.params.length ? ' ...' : ''}}}`);
        }
        if (helper !== 'yaml' && m.params.length > 0) fail(n, `unknown helper ${JSON.stringify(helper)}; the only helper is yaml`);
        visit(m.path);
        m.params.forEach(visit);
        break;
      }
      case 'BlockStatement': {
        const b = n as hbs.AST.BlockStatement;
        const helper = (b.path as hbs.AST.PathExpression).original;
        if (!BLOCK_HELPERS.has(helper)) fail(n, `unknown block helper ${JSON.stringify(helper)}; use if, unless, each or with`);
        b.params.forEach(visit);
        visit(b.program);
        visit(b.inverse);
        break;
      }
      case 'SubExpression': {
        const s = n as hbs.AST.SubExpression;
        const helper = (s.path as hbs.AST.PathExpression).original;
        if (helper !== 'yaml' && helper !== 'concat') fail(n, `unknown helper ${JSON.stringify(helper)}; helpers are yaml and concat`);
        s.params.forEach(visit);
        break;
      }
      case 'PathExpression': {
        const p = n as hbs.AST.PathExpression;
        const bad = p.parts.find((part) => FORBIDDEN_PARTS.has(part));
        if (bad) fail(n, `${JSON.stringify(bad)} cannot be used in a template`);
        break;
      }
      case 'PartialStatement':
      case 'PartialBlockStatement':
        fail(n, 'partials are not supported');
        break;
      case 'DecoratorBlock':
      case 'Decorator':
        fail(n, 'decorators are not supported');
        break;
      default:
        break;
    }
  };
  visit(node);
}
