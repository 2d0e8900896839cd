import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog';
import { compileTemplate } from '../../catalog/templates';
import { catalogCopy } from '../helpers';

/** A copy of the catalog with `file` of `service` changed by `edit`. */
function brokenCatalog(service: string, file: string, edit: (text: string) => string): string {
  const dir = catalogCopy();
  const path = join(dir, service, file);
  writeFileSync(path, edit(readFileSync(path, 'utf8')));
  return dir;
}

describe('catalog loader', () => {
  it('loads every built-in service', () => {
    expect(loadCatalog().names()).toEqual(expect.arrayContaining(['elasticsearch', 'kong', 'mysql', 'portal-admin', 'redis']));
  });

  it('names the file, line and field of a schema error', () => {
    const dir = brokenCatalog('mysql', 'service.yml', (t) => t.replace('    port: 3306', '    port: "3306"'));
    expect(() => loadCatalog(dir)).toThrow(/mysql\/service\.yml:8: \/ports\/0\/port must be integer/);
  });

  it('refuses a chart version written as a number', () => {
    const dir = brokenCatalog('redis', 'service.yml', (t) => t.replace('version: 10.7.16', 'version: 10.7'));
    expect(() => loadCatalog(dir)).toThrow(/redis\/service\.yml:\d+: \/helm\/chart\/version must be a string; write it in quotes \(YAML reads an unquoted 1\.10 as the number 1\.1\)/);
  });

  it('refuses an unknown field, naming it', () => {
    const dir = brokenCatalog('kong', 'service.yml', (t) => t.replace('upgradable: true', 'upgradable: true\nupgradeable: true'));
    expect(() => loadCatalog(dir)).toThrow(/kong\/service\.yml:\d+: \(top level\) has unknown field "upgradeable"/);
  });

  it('refuses a latest image tag', () => {
    const dir = brokenCatalog('kong', 'service.yml', (t) => t.replace('tag: 2.1.4-alpine', 'tag: latest'));
    expect(() => loadCatalog(dir)).toThrow(/kong\/service\.yml:\d+: \/images\/0\/tag must be an exact version, not a moving tag \(latest, stable, main, master\)/);
  });

  it('refuses duplicate keys, naming the line', () => {
    const dir = brokenCatalog('mysql', 'service.yml', (t) => t.replace('category: middleware', 'category: middleware\ncategory: devops'));
    expect(() => loadCatalog(dir)).toThrow(/mysql\/service\.yml:5: Map keys must be unique/);
  });

  it('refuses a dependency that is not in the catalog', () => {
    const dir = brokenCatalog('portal-admin', 'service.yml', (t) => t.replace('dependencies: [mysql, redis]', 'dependencies: [mysql, postgres]'));
    expect(() => loadCatalog(dir)).toThrow(/portal-admin\/service\.yml: dependency "postgres" is not a catalog service/);
  });

  it('names the line of a template written in service.yml, whether the file was parsed or its parse was kept', () => {
    const dir = brokenCatalog('portal-admin', 'service.yml', (t) => t.replace('JAVA_OPTS: "-Xms{{settings.heap}}', 'JAVA_OPTS: "-Xms{{settings.nope}}'));
    const line = readFileSync(join(dir, 'portal-admin', 'service.yml'), 'utf8').split('\n').findIndex((l) => l.includes('settings.nope')) + 1;
    for (const run of ['parsed', 'kept']) {
      expect(() => loadCatalog(dir), run).toThrow(new RegExp(`portal-admin/service\\.yml:${line} \\(workload\\.env\\.JAVA_OPTS\\):1: settings\\.nope is not`));
    }
  });

  it('reports problems of several services at once', () => {
    const dir = brokenCatalog('mysql', 'service.yml', (t) => t.replace('    port: 3306', '    port: 0'));
    writeFileSync(join(dir, 'redis', 'values.schema.json'), '{ "type": "object", "properties": { "x": { "type": "strng" } } }');
    expect(() => loadCatalog(dir)).toThrow(/mysql\/service\.yml:8: \/ports\/0\/port must be >= 1\n.*redis\/values\.schema\.json/);
  });

  it('refuses a helm.podDisruptionBudget that gives both or neither of maxUnavailable and minAvailable, or a selector naming no known variable', () => {
    const both = brokenCatalog('kafka', 'service.yml', (t) => t.replace('    maxUnavailable: 1', '    maxUnavailable: 1\n    minAvailable: quorum'));
    expect(() => loadCatalog(both)).toThrow(/kafka\/service\.yml:\d+: a PodDisruptionBudget keeps pods running by maxUnavailable or by minAvailable: quorum; give one of them/);
    const neither = brokenCatalog('kafka', 'service.yml', (t) => t.replace('    maxUnavailable: 1\n', ''));
    expect(() => loadCatalog(neither)).toThrow(/kafka\/service\.yml:\d+: a PodDisruptionBudget keeps pods running by maxUnavailable or by minAvailable: quorum; give one of them/);
    const unknown = brokenCatalog('kafka', 'service.yml', (t) => t.replace('app.kubernetes.io/instance: "{{instance.name}}"', 'app.kubernetes.io/instance: "{{instance.nmae}}"'));
    expect(() => loadCatalog(unknown)).toThrow(/kafka\/service\.yml:\d+ \(helm\.podDisruptionBudget\.selector\.app\.kubernetes\.io\/instance\):1: instance\.nmae is not in the template context/);
    const half = brokenCatalog('rabbitmq', 'service.yml', (t) => t.replace('minAvailable: quorum', 'minAvailable: 2'));
    expect(() => loadCatalog(half)).toThrow(/rabbitmq\/service\.yml:\d+: \/helm\/podDisruptionBudget\/minAvailable must be equal to constant/);
  });

  it('refuses helm.ingress (siteforge writes the Ingress) where the values set up the chart\'s own, or the chart serves further hosts', () => {
    const ownToo = brokenCatalog('grafana', 'values.yaml.hbs', (t) => `${t}ingress:\n  enabled: true\n  hosts: [{{yaml instance.host}}]\n`);
    expect(() => loadCatalog(ownToo)).toThrow(/grafana\/service\.yml:\d+: siteforge writes the Ingress \(helm\.ingress\), but the values set up the chart's own too \(they read instance\.host\): leave the chart's Ingress out of the values/);
    const further = brokenCatalog('kibana', 'service.yml', (t) => t.replace('  ingress: {}', '  ingress: {}\n  extraHosts: [apm]'));
    expect(() => loadCatalog(further)).toThrow(/kibana\/service\.yml:\d+: the Ingress siteforge writes \(helm\.ingress\) serves the instance's host alone, not the chart's further hosts \(helm\.extraHosts\)/);
    const badAnnotation = brokenCatalog('kibana', 'service.yml', (t) => t.replace('  ingress: {}', '  ingress:\n    annotations: { "bad name!": "x" }'));
    expect(() => loadCatalog(badAnnotation)).toThrow(/kibana\/service\.yml:\d+: \/helm\/ingress\/annotations/);
  });
  it('refuses a helm.service that reads more of the instance than its name, or names no known variable', () => {
    const more = brokenCatalog('redis', 'service.yml', (t) => t.replace('  service: "{{instance.name}}-master"', '  service: "{{instance.name}}-{{instance.profile}}"'));
    expect(() => loadCatalog(more)).toThrow(/redis\/service\.yml:\d+: the Service clients reach \(helm\.service\) is named from the instance's name alone; it reads instance\.profile/);
    const unknown = brokenCatalog('redis', 'service.yml', (t) => t.replace('  service: "{{instance.name}}-master"', '  service: "{{instance.nmae}}-master"'));
    expect(() => loadCatalog(unknown)).toThrow(/redis\/service\.yml:\d+ \(helm\.service\):1: instance\.nmae is not in the template context/);
  });
});

describe('templates', () => {
  it('fails on a missing variable, naming the template and the line', () => {
    const render = compileTemplate('a: 1\nb: {{yaml settings.nope}}\n', 'x/values.yaml.hbs');
    expect(() => render({ settings: {} })).toThrow('x/values.yaml.hbs:2: yaml: value is undefined');
  });

  it('fails on a missing variable in a text template', () => {
    const render = compileTemplate('port={{settings.port}}\n', 'x/app.conf.hbs');
    expect(() => render({ settings: {} })).toThrow(/^x\/app\.conf\.hbs:1: "port" not defined/);
  });

  it('refuses a raw value in a YAML template', () => {
    expect(() => compileTemplate('a: {{settings.name}}\n', 'x/values.yaml.hbs'))
      .toThrow('x/values.yaml.hbs:1: YAML templates insert values only as {{yaml value}}, found {{settings.name}}');
  });

  it('refuses constructor and __proto__', () => {
    expect(() => compileTemplate('{{#with constructor}}x{{/with}}', 'x/a.conf.hbs')).toThrow('x/a.conf.hbs:1: "constructor" cannot be used in a template');
    expect(() => compileTemplate('{{settings.__proto__}}', 'x/a.conf.hbs')).toThrow(/"__proto__" cannot be used/);
  });

  it('cannot be made to inject YAML keys by a value', () => {
    const render = compileTemplate('name: {{yaml settings.name}}\n', 'x/values.yaml.hbs');
    expect(render({ settings: { name: 'x\nadmin: true' } })).toBe('name: "x\\nadmin: true"\n');
  });
});

describe('the template context the catalog checks against', () => {
  it('has exactly the fields the model renders templates with', async () => {
    const { CONTEXT } = await import('../../catalog/template-paths');
    const { templateContext } = await import('../../constructs/template-context');
    const { siteWithEnvironment, builtinCatalog } = await import('../helpers');
    const { env } = siteWithEnvironment();
    const context = templateContext(env.addInstance('kong', { service: builtinCatalog().service('kong') })) as Record<string, Record<string, unknown>>;
    expect(Object.keys(context).sort()).toStrictEqual(Object.keys(CONTEXT).sort());
    for (const [root, fields] of Object.entries(CONTEXT)) {
      if (fields !== '*') expect({ root, fields: Object.keys(context[root]).sort() }).toStrictEqual({ root, fields: [...fields].sort() });
    }
  });
});

describe('settings errors', () => {
  it('do not show a value that holds a field named like a credential', () => {
    // GIVEN redis, whose maxmemory is a string
    const redis = loadCatalog().service('redis');
    // WHEN it is given an object holding a password, and storageSize a wrong plain value
    const { problems } = redis.resolveSettings({ maxmemory: { password: 'hunter2' }, storageSize: 8 });
    // THEN the object is not repeated; the plain value still is
    expect(problems).toStrictEqual([
      { path: '/maxmemory', message: 'must be a string, got a value not shown (it may be a credential)' },
      { path: '/storageSize', message: 'must be a string, got 8' },
    ]);
  });

  it('do not show an item of a list whose setting is named like a credential', () => {
    // GIVEN a service whose settings take a list of strings named like credentials
    const dir = brokenCatalog('redis', 'values.schema.json', (t) => t.replace('"properties": {', '"properties": {\n    "aclPasswords": { "type": "array", "items": { "type": "string" } },'));
    const redis = loadCatalog(dir).service('redis');
    // WHEN an item is of the wrong type
    const { problems } = redis.resolveSettings({ aclPasswords: ['fine', 123456] });
    // THEN the item is not shown
    expect(problems).toStrictEqual([{ path: '/aclPasswords/1', message: 'must be a string, got a value not shown (it may be a credential)' }]);
  });
});
