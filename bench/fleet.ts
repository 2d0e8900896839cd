import { Exposure, Site } from '../constructs';
import type { Catalog } from '../catalog';
import type { SiteDefinition } from '../sites';

export interface FleetShape {
  readonly sites: number;
  readonly envs: number;
  readonly services: number;
  /** Every n-th site gets another owner: the "changed" part of a fleet for publish figures. @default - none */
  readonly changeEvery?: number;
}

/** How the shape reaches worker threads, which load this module for themselves. */
export const SHAPE_VARIABLE = 'SITEFORGE_BENCH_SHAPE';

/**
 * A synthetic fleet of `sites` × `envs` environments with `services` instances each, built
 * from the real catalog and constructs: every instance is a native service of the catalog
 * (one that needs no other service) exposed by an Ingress, so each renders a Deployment,
 * Service, Ingress and ConfigMap, the shape the fleet-scale figures are quoted for.
 */
export function syntheticFleet(shape: FleetShape): SiteDefinition[] {
  return Array.from({ length: shape.sites }, (_, s) => {
    const name = siteName(s);
    return {
      name,
      build(scope, catalog: Catalog) {
        const services = benchServices(catalog);
        const changed = shape.changeEvery !== undefined && s % shape.changeEvery === 0;
        const site = new Site(scope, name, { domain: `${name}.example.com`, owners: changed ? ['delivery', 'delivery-leads'] : ['delivery'] });
        for (let e = 0; e < shape.envs; e++) {
          const env = site.addEnvironment(`env-${e}`);
          env.addCluster();
          for (let i = 0; i < shape.services; i++) {
            const service = services[i % services.length];
            env.addInstance(`${service.name}-${i}`, { service, exposure: Exposure.ingress() });
          }
        }
        return site;
      },
    };
  });
}

/** The name of the fleet's site number `index`: all have the same length. */
export function siteName(index: number): string {
  return `site-${String(index).padStart(4, '0')}`;
}

function benchServices(catalog: Catalog) {
  // A Deployment, Service, Ingress and ConfigMap each: native, stateless, unmonitored, standalone.
  const services = catalog.list().filter((s) => s.workload?.kind === 'Deployment' && !s.monitoring && s.dependencies.length === 0
    && s.workload.configFiles.length > 0 && !s.connection?.credentials);
  if (services.length === 0) throw new Error('the catalog has no native service without dependencies to benchmark with');
  return services;
}

/** The shape in SITEFORGE_BENCH_SHAPE (`sites,envs,services[,changeEvery]`). */
export function shapeFromEnvironment(): FleetShape {
  const [sites, envs, services, changeEvery] = (process.env[SHAPE_VARIABLE] ?? '').split(',').map(Number);
  return { sites, envs, services, changeEvery: Number.isNaN(changeEvery) || changeEvery === undefined ? undefined : changeEvery };
}

/** For worker threads: the fleet of the shape in SITEFORGE_BENCH_SHAPE. */
export const fleet: readonly SiteDefinition[] = process.env[SHAPE_VARIABLE] ? syntheticFleet(shapeFromEnvironment()) : [];
