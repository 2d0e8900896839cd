// Entry point for `npx cdk8s synth` (see cdk8s.yaml): the CLI sets CDK8S_OUTDIR.
import { loadCatalog } from '../catalog';
import { fleet } from '../sites';
import { synth } from './synth';

const outDir = process.env.CDK8S_OUTDIR ?? 'dist';
const report = await synth({ fleet, catalog: loadCatalog(), outDir });
console.log(`siteforge: synthesized ${report.environments.length} environments into ${outDir}`);
