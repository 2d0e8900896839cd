import { Environment } from './environment';
import { aptVersionPattern } from './ansible/packages';
import { resolveImage } from './images';
import type { RenderedFile } from './rendered-file';

/**
 * `artifacts.lock.json`: what each instance's placement really fetches, as the list an offline
 * mirror is filled from. Instances on Kubernetes pull images and charts, with version and
 * digest: `source` is where the artifact comes from, `pull` where the site pulls it (the mirror,
 * when the site has one). Instances on VMs pull no image: their hosts install the service's
 * Debian packages (`vm.packages`) with apt, at `aptVersion` (`[epoch:]version-*`, see aptVersionPattern), from the
 * apt sources the hosts are configured with; storage mounts install theirs at whatever version
 * those sources hold (`version` null). A package's checksum is in its repository's signed
 * index, which synth does not read, so `checksum` is null rather than invented.
 */
export function renderArtifactsLock(env: Environment): RenderedFile {
  const images = new Map<string, object>();
  const charts = new Map<string, object>();
  const packages = new Map<string, { usedBy: string[] } & Record<string, unknown>>();
  const addPackage = (name: string, version: string | null, aptVersion: string | null, user: string) => {
    const key = `${name}=${aptVersion ?? ''}`;
    packages.set(key, { name, version, aptVersion, checksum: null, usedBy: [...(packages.get(key)?.usedBy ?? []), user].sort() });
  };
  for (const group of env.hostGroups) {
    for (const mount of group.mounts) {
      for (const name of mount.packages) addPackage(name, null, null, `${group.name}:${mount.path}`);
    }
  }
  for (const instance of env.instances) {
    if (instance.placement.kind === 'vm') {
      for (const pkg of instance.service.vm?.packages ?? []) {
        addPackage(pkg.name, instance.service.version, aptVersionPattern(pkg, instance.service.version), instance.name);
      }
      continue;
    }
    for (const image of instance.service.images) {
      const source = resolveImage(image);
      images.set(source.ref, {
        source: source.ref,
        pull: resolveImage(image, env.registryMirror).ref,
        tag: image.tag,
        digest: image.digest ?? null,
        usedBy: [...((images.get(source.ref) as { usedBy?: string[] })?.usedBy ?? []), instance.name].sort(),
      });
    }
    const chart = instance.service.helm?.chart;
    if (chart) {
      const key = `${chart.repository}/${chart.name}:${chart.version}`;
      charts.set(key, {
        repository: chart.repository,
        pull: env.chartMirror ?? chart.repository,
        name: chart.name,
        version: chart.version,
        digest: chart.digest ?? null,
        usedBy: [...((charts.get(key) as { usedBy?: string[] })?.usedBy ?? []), instance.name].sort(),
      });
    }
  }
  const sorted = (m: Map<string, object>) => [...m.keys()].sort().map((k) => m.get(k));
  return {
    path: 'artifacts.lock.json',
    content: JSON.stringify({ images: sorted(images), charts: sorted(charts), packages: sorted(packages) }, null, 2) + '\n',
  };
}
