import { describe, expect, it } from 'vitest';
import { App } from 'cdk8s';
import { Environment, Placement, Site, type Instance } from '../../constructs';
import type { CatalogService } from '../../catalog';
import { builtinCatalog, renderWithSecrets } from '../helpers';

/** Settings a service needs besides its defaults (its schema's required fields). */
const REQUIRED_SETTINGS: Record<string, Record<string, unknown>> = {
  'bk-saas-app': { appCode: 'demo-app' },
};

/** Every problem the validations of the site report. */
function validationProblems(site: Site): string[] {
  return site.node.findAll().flatMap((c) => c.node.validate());
}

/** A fresh site with one environment on a cluster (and a VM group), and `service` installed in `profile`. */
function installed(service: CatalogService, profile: string, placement: 'kubernetes' | 'vm'): { site: Site; instance: Instance } {
  const site = new Site(new App({ outdir: '/nonexistent' }), 'acme', { domain: 'acme.example.com' });
  const env = site.addEnvironment('prod');
  env.addCluster({ storageClass: 'standard' });
  const nodes = service.profiles[profile].defaultNodes;
  const group = env.addHostGroup('hosts', {
    hosts: Array.from({ length: nodes }, (_, i) => ({ name: `vm${i + 1}`, address: `10.0.0.${i + 1}`, roles: [service.vm?.hostRoles[0] ?? 'db'] })),
  });
  const instance = env.addInstance(service.name, {
    service,
    profile,
    settings: REQUIRED_SETTINGS[service.name],
    placement: placement === 'vm' ? Placement.vm({ group }) : Placement.kubernetes(),
    withDependencies: true,
  });
  return { site, instance };
}

describe('the whole catalog', () => {
  const catalog = builtinCatalog();
  const cases = catalog.list().flatMap((service) => Object.keys(service.profiles).flatMap((profile) =>
    service.placements.map((placement) => ({ name: service.name, profile, placement }))));

  it('holds every service the delivery documents name', () => {
    expect(catalog.names()).toEqual(expect.arrayContaining([
      'mysql', 'redis', 'zookeeper', 'eureka', 'rabbitmq', 'kafka', 'elasticsearch', 'logstash', 'kibana',
      'prometheus', 'grafana', 'alertmanager', 'minio', 'gitlab', 'harbor', 'nexus', 'sonarqube',
      'portal-admin', 'studio', 'amo', 'kong', 'koca-website',
      'bk-login', 'bk-paas', 'bk-esb', 'bk-appengine', 'bk-paasagent',
      'k8s-informer', 'devops-deploy-service', 'mobile-front',
    ]));
    expect(cases.length).toBeGreaterThanOrEqual(80);
  });

  it.each(cases)('renders $name in profile $profile on $placement', ({ name, profile, placement }) => {
    // GIVEN the service in the profile, with its dependencies pulled in
    const { site, instance } = installed(catalog.service(name), profile, placement);
    // WHEN the environment is validated and rendered
    const problems = validationProblems(site);
    const files = renderWithSecrets(Environment.of(instance));
    // THEN nothing is wrong, and the instance has its manifests or values on Kubernetes
    expect(problems).toStrictEqual([]);
    const paths = files.map((f) => f.path);
    if (placement === 'kubernetes') {
      const expected = instance.service.helm ? `values/${name}.yaml` : `manifests/${name}/kustomization.yaml`;
      expect(paths).toContain(expected);
    } else {
      expect(paths.some((p) => p.startsWith(`manifests/${name}/`) || p === `values/${name}.yaml`)).toBe(false);
      expect(paths).toContain(`ansible/roles/${name}/tasks/main.yml`);
    }
    expect(files.find((f) => f.path === 'README.md')!.content).toContain(`| ${name} | ${name} | ${instance.service.version} | ${profile} |`);
  });
});
