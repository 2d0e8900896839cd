import { basename } from 'node:path';
import { Command, Option } from 'commander';
import { columns, type Io } from './io';

export function catalogCommand(io: Io): Command {
  // As fleetOptions' (options.ts, which loads more than these commands need).
  const catalogDir = () => new Option('--catalog <dir>', 'catalog folder (default: the built-in catalog)');
  const command = new Command('catalog').description('list the catalog services, or show one');
  command
    .command('list')
    .description('name, version, kind (helm or native), placements, profiles and ports of every service')
    .addOption(catalogDir())
    .action(async (options: { catalog?: string }) => {
      const { loadCatalog } = await import('../catalog');
      const rows = [['NAME', 'VERSION', 'KIND', 'PLACEMENTS', 'PROFILES', 'PORTS']];
      for (const s of loadCatalog(options.catalog).list()) {
        rows.push([
          s.name,
          s.version,
          s.helm ? 'helm' : s.workload ? 'native' : 'vm only',
          s.placements.join(','),
          Object.keys(s.profiles).join(','),
          s.ports.map((p) => String(p.port)).join(',') || '-',
        ]);
      }
      io.out(columns(rows));
    });
  command
    .command('show')
    .description('settings with defaults, profiles, dependencies and images of one service')
    .argument('<name>', 'service name')
    .addOption(catalogDir())
    .action(async (name: string, options: { catalog?: string }) => {
      const { loadCatalog } = await import('../catalog');
      const s = loadCatalog(options.catalog).service(name);
      const lines = [
        `${s.name} ${s.version} (${s.category})`,
        s.description,
        '',
        `placements:    ${s.placements.join(', ')}`,
        `upgradable:    ${s.upgradable ? 'yes' : 'no'}`,
        `dependencies:  ${s.dependencies.join(', ') || '(none)'}`,
        `ports:         ${s.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`).join(', ') || '(none)'}`,
        '',
        'profiles:',
        ...Object.values(s.profiles).map((p) => {
          const nodes = p.maxNodes === p.minNodes ? `${p.minNodes}` : `${p.minNodes}..${p.maxNodes ?? ''} (default ${p.defaultNodes})`;
          return `  ${p.name}${p.name === s.defaultProfile ? ' (default)' : ''}: ${p.description}; nodes ${nodes}${p.forbiddenNodes.length ? `, not ${p.forbiddenNodes.join(', ')}` : ''}`;
        }),
        '',
        'images:',
        ...s.images.map((i) => `  ${i.name}: ${i.repository}:${i.tag}${i.digest ? `@${i.digest}` : ''}`),
      ];
      if (s.helm) lines.push('', `chart: ${s.helm.chart.name} ${s.helm.chart.version} from ${s.helm.chart.repository}`);
      if (s.helm?.clientService) lines.push(`clients reach: the Service ${s.helm.clientService({ instance: { name: '<instance>' } })}, port ${s.ports[0].port}`);
      if (s.helm?.siteforgeIngress) lines.push('ingress: written by siteforge (networking.k8s.io/v1), not by the chart');
      if (s.helm?.siteforgePodDisruptionBudget) lines.push('pod disruption budget: written by siteforge for a cluster (policy/v1), not by the chart');
      if (s.helm?.imagesNotMirrored.length) lines.push(`not mirrored: the chart also pulls ${s.helm.imagesNotMirrored.join(', ')}, which a registry mirror does not get`);
      for (const api of s.helm?.removedApis ?? []) lines.push(`kubernetes: the chart writes ${api.kind} as ${api.apiVersion}, not served since ${api.removedIn}`);
      if (s.monitoring) {
        const m = s.monitoring;
        lines.push('', `metrics: port ${m.port}, path ${m.path}, every ${m.interval}; ${m.dashboard ? 'Grafana dashboard included' : 'no dashboard'}`);
      }
      if (s.family) lines.push('', `family: ${basename(s.dir)}/family.yml (a member sharing its pattern)`);
      lines.push('', 'settings:');
      const properties = (s.settingsSchema.properties ?? {}) as Record<string, { type?: string; default?: unknown; description?: string; enum?: unknown[] }>;
      const rows = [['  NAME', 'TYPE', 'DEFAULT', 'DESCRIPTION']];
      for (const [key, p] of Object.entries(properties)) {
        rows.push([`  ${key}`, p.enum ? p.enum.join('|') : p.type ?? '-', p.default === undefined ? '-' : JSON.stringify(p.default), p.description ?? '']);
      }
      lines.push(rows.length > 1 ? columns(rows) : '  (none)');
      io.out(lines.join('\n'));
    });
  command
    .command('readme')
    .description("rewrite the catalog section of README.md from the catalog (--check: only fail when it differs)")
    .option('--readme <file>', 'README to update', 'README.md')
    .option('--check', 'change nothing; exit 1 when the section differs from the catalog')
    .addOption(catalogDir())
    .action(async (options: { readme: string; check?: boolean; catalog?: string }) => {
      const { loadCatalog } = await import('../catalog');
      const { updateReadmeCatalog } = await import('../engine/readme-catalog');
      const { UserError } = await import('../engine/errors');
      const { changed } = updateReadmeCatalog(options.readme, loadCatalog(options.catalog), { check: options.check });
      if (changed && options.check) throw new UserError(`${options.readme}: the catalog section differs from the catalog; run npm run readme:catalog`);
      io.out(changed ? `${options.readme}: catalog section updated` : `${options.readme}: catalog section is up to date`);
    });
  return command;
}
