import { Environment } from './environment';
import { resolveImage } from './images';
import type { RenderedFile } from './rendered-file';

/**
 * `artifacts.lock.json`: every image and chart the environment pulls, with version and digest,
 * as the list an offline mirror is filled from. `source` is where the artifact comes from,
 * `pull` where the site pulls it (the mirror, when the site has one).
 */
export function renderArtifactsLock(env: Environment): RenderedFile {
  const images = new Map<string, object>();
  const charts = new Map<string, object>();
  for (const instance of env.instances) {
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
    if (chart && instance.placement.kind === 'kubernetes') {
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
    content: JSON.stringify({ images: sorted(images), charts: sorted(charts) }, null, 2) + '\n',
  };
}
