import { Command } from 'commander';
import type { Io } from './io';
import type { CompiledProgram } from '../engine/compiled-program.js';
import { fleetOptions, loadInputs, type FleetOptions } from './options';

export function sitesCommand(io: Io, compiled?: CompiledProgram): Command {
  return fleetOptions(new Command('sites'))
    .description('show the fleet as a tree: site, environments, instances with placement and profile')
    .action(async (options: FleetOptions) => {
      const { buildSite, noSuchEnvironment, selectEnvironments, selectSites } = await import('../engine/fleet');
      const { catalog, fleet } = await loadInputs(options, compiled);
      const lines: string[] = [];
      let selected = 0;
      for (const definition of selectSites(fleet, options)) {
        const site = buildSite(definition, catalog);
        const envs = selectEnvironments(site, options);
        // With --env, a site without that environment has nothing to show.
        if (envs.length === 0 && options.env !== undefined) continue;
        lines.push(`${site.name} (${site.domain})`);
        selected += envs.length;
        envs.forEach((env, e) => {
          const lastEnv = e === envs.length - 1;
          const cluster = env.cluster;
          const target = [cluster ? `cluster ${cluster.apiServer} via ${cluster.applier.name}` : '', env.hostGroups.length > 0 ? `${env.hostGroups.flatMap((g) => g.hosts).length} VM hosts` : '']
            .filter(Boolean).join(', ');
          lines.push(`${lastEnv ? '└─' : '├─'} ${env.name} [${env.zone.name} zone] ${target}`);
          const instances = env.instancesInDependencyOrder();
          const width = Math.max(0, ...instances.map((i) => i.name.length));
          instances.forEach((i, n) => {
            const where = i.placement.kind === 'vm' ? `vm ${i.hosts.map((h) => h.name).join(',')}` : 'kubernetes';
            const uses = i.dependencies.length > 0 ? ` uses ${i.dependencies.map((d) => d.name).join(', ')}` : '';
            const domain = i.url ? ` ${i.url}` : '';
            lines.push(`${lastEnv ? '   ' : '│  '}${n === instances.length - 1 ? '└─' : '├─'} ${i.name.padEnd(width)}  ${i.service.name} ${i.service.version}, ${i.profile.name} x${i.nodes}, ${where}${uses}${domain}`);
          });
        });
      }
      // An --env no site has is a typo, as synth and validate say, not an empty tree.
      if (selected === 0 && options.env !== undefined) throw noSuchEnvironment(fleet, catalog, options);
      io.out(lines.join('\n'));
    });
}
