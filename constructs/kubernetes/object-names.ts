import type { Instance } from '../instance';

/*
 * Names of the objects siteforge makes for an instance in its environment's namespace, where
 * the model checks them against the environment's own objects; kept apart from the renderers
 * so that checking a site loads no cdk8s.
 */

/** The ConfigMap of a natively rendered instance's config files. */
export function configMapNameOf(instance: Instance): string {
  return `${instance.name}-config`;
}

/** The ConfigMap of an instance's Grafana dashboard. */
export function dashboardNameOf(instance: Instance): string {
  return `${instance.name}-dashboard`;
}
