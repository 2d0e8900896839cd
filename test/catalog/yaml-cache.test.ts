import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../constructs/errors';
import { readYamlFile } from '../../catalog/yaml-cache';
import { tempDir } from '../helpers';

/** The files kept under `cacheDir` (one subfolder per yaml version). */
function kept(cacheDir: string): string[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

/** `text` in a file named `name` of a fresh folder, and a fresh cache folder. */
function yamlFile(name: string, text: string): { file: string; cacheDir: string } {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return { file, cacheDir: join(tempDir(), 'yaml') };
}

describe('parsed catalog YAML kept per installation', () => {
  it('reads a file parsed before from what was kept, and parses a changed file anew', () => {
    // GIVEN a service file, read once
    const { file, cacheDir } = yamlFile('service.yml', 'name: portal\nports:\n  - name: http\n    port: 8080\n');
    expect(readYamlFile(file, 'service.yml', cacheDir).value).toStrictEqual({ name: 'portal', ports: [{ name: 'http', port: 8080 }] });
    // WHEN what was kept for it is replaced, THEN the next read returns that: the file was not parsed again
    const [keptFile] = kept(cacheDir);
    writeFileSync(keptFile, JSON.stringify({ name: 'from-the-cache' }));
    expect(readYamlFile(file, 'service.yml', cacheDir).value).toStrictEqual({ name: 'from-the-cache' });
    // AND a change to the file is read, whatever was kept for its old text
    writeFileSync(file, 'name: gateway\n');
    expect(readYamlFile(file, 'service.yml', cacheDir).value).toStrictEqual({ name: 'gateway' });
    expect(kept(cacheDir)).toHaveLength(2);
  });

  it('gives the lines of a kept file as parsing does, for errors', () => {
    const { file, cacheDir } = yamlFile('service.yml', 'name: portal\nports:\n  - name: http\n    port: 8080\n');
    const parsed = readYamlFile(file, 'service.yml', cacheDir);
    const read = readYamlFile(file, 'service.yml', cacheDir);
    for (const path of [['name'], ['ports', 0, 'port'], ['ports', 5]]) expect(read.lineOf(path)).toBe(parsed.lineOf(path));
    expect(read.lineOf(['ports', 0, 'port'])).toBe(4);
  });

  it('reports a file that does not parse every time, and keeps nothing for it', () => {
    const { file, cacheDir } = yamlFile('service.yml', 'name: portal\nname: gateway\n');
    for (let i = 0; i < 2; i++) {
      const error = (() => { try { readYamlFile(file, 'catalog/portal/service.yml', cacheDir); } catch (e) { return e; } })();
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(/^catalog\/portal\/service\.yml:2: Map keys must be unique/);
    }
    expect(kept(cacheDir)).toStrictEqual([]);
  });

  it('keeps no value JSON cannot hold exactly, and still reads it right', () => {
    const { file, cacheDir } = yamlFile('limits.yml', 'max: .inf\nmin: -0.0\n');
    for (let i = 0; i < 2; i++) {
      const value = readYamlFile(file, 'limits.yml', cacheDir).value as { max: number; min: number };
      expect(value.max).toBe(Infinity);
      expect(Object.is(value.min, -0)).toBe(true);
    }
  });

  it('gives the same value whether it parsed the file or read what was kept: an alias is a copy', () => {
    const { file, cacheDir } = yamlFile('service.yml', 'labels: &labels\n  tier: web\nselector: *labels\n');
    for (let i = 0; i < 2; i++) {
      const value = readYamlFile(file, 'service.yml', cacheDir).value as { labels: object; selector: object };
      expect(value).toStrictEqual({ labels: { tier: 'web' }, selector: { tier: 'web' } });
      expect(value.selector).not.toBe(value.labels);
    }
    expect(kept(cacheDir)).toHaveLength(1);
  });

  it('reads a node that holds itself, keeping nothing', () => {
    const { file, cacheDir } = yamlFile('service.yml', 'labels: &a [*a]\n');
    const value = readYamlFile(file, 'service.yml', cacheDir).value as { labels: unknown[] };
    expect(value.labels[0]).toBe(value.labels);
    expect(kept(cacheDir)).toStrictEqual([]);
  });

  it('parses where nothing can be kept', () => {
    const dir = tempDir();
    const blocked = join(dir, 'not-a-folder');
    writeFileSync(blocked, '');
    const file = join(dir, 'service.yml');
    writeFileSync(file, 'name: portal\n');
    expect(readYamlFile(file, 'service.yml', blocked).value).toStrictEqual({ name: 'portal' });
  });
});
