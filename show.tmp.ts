import { App } from 'cdk8s';
import { Site, renderEnvironment } from './constructs';
import { loadCatalog } from './catalog';
const [name, profile, file] = process.argv.slice(2);
const c = loadCatalog();
const site = new Site(new App({ outdir: '/x' }), 'acme', { domain: 'acme.example.com' });
const env = site.addEnvironment('prod'); env.addCluster();
env.addInstance(name, { service: c.service(name), profile, withDependencies: true, settings: name === 'bk-saas-app' ? { appCode: 'x' } : undefined });
for (const f of renderEnvironment(env)) if (f.path.includes(file)) console.log('=== ' + f.path + '\n' + f.content);
