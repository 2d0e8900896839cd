// The reference writer as its own process (see bench.ts), so that it runs with node's default
// heap settings rather than siteforge's; bench.ts runs it compiled with the bench, or:
//   node --import tsx bench/reference-run.ts <siteforge output> <folder> <sites> <envs> <services> yaml|json|emitter
// (`emitter`: siteforge's own YAML emitter in place of the `yaml` library)
// Prints `{"objects":N,"seconds":S}`.
import { join } from 'node:path';
import { toYaml } from '../constructs/yaml';
import { siteName } from './fleet';
import { readEnvironmentDocuments, writeReference } from './reference-writer';

const [outDir, referenceDir, sites, envs, services, format] = process.argv.slice(2);
const shape = { sites: Number(sites), envs: Number(envs), services: Number(services) };
// The reference writes what siteforge wrote: the first site's environments, renamed per site.
const templates = Array.from({ length: shape.envs }, (_, e) => readEnvironmentDocuments(join(outDir, siteName(0), `env-${e}`)));
const start = process.hrtime.bigint();
const serializers: Record<string, ((document: unknown) => string) | undefined> = { yaml: undefined, json: (d) => JSON.stringify(d), emitter: toYaml };
const objects = writeReference(referenceDir, shape, templates, serializers[format]);
console.log(JSON.stringify({ objects, seconds: Number(process.hrtime.bigint() - start) / 1e9 }));
