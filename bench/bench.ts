// npm run bench -- --sites N --envs E --services M
// Synthesizes a generated fleet with the real engine into a temporary folder and prints
// figures; the last line has a fixed form so runs can be compared. Not a test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../catalog';
import { synth } from '../engine';
import { syntheticFleet } from './fleet';

const { values } = parseArgs({
  options: {
    sites: { type: 'string', default: '10' },
    envs: { type: 'string', default: '3' },
    services: { type: 'string', default: '10' },
  },
});
const shape = { sites: Number(values.sites), envs: Number(values.envs), services: Number(values.services) };
for (const [key, value] of Object.entries(shape)) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench: --${key} must be a positive integer, got ${JSON.stringify(values[key as keyof typeof values])}`);
    process.exit(2);
  }
}

const outDir = mkdtempSync(join(tmpdir(), 'siteforge-bench-'));
try {
  const catalog = loadCatalog();
  const fleet = syntheticFleet(catalog, shape);
  let objects = 0;
  let envs = 0;
  const start = process.hrtime.bigint();
  await synth({
    fleet,
    catalog,
    outDir,
    onEnvironment: (e) => {
      envs++;
      objects += e.written.filter((p) => p.startsWith('manifests/') && !p.endsWith('/kustomization.yaml')).length;
    },
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`synth: ${shape.sites} sites x ${shape.envs} envs x ${shape.services} services into ${outDir}`);
  const peakRssMib = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(`bench: objects=${objects} envs=${envs} seconds=${seconds.toFixed(1)} objects_per_s=${Math.round(objects / seconds)} peak_rss_mib=${peakRssMib} workers=1`);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
