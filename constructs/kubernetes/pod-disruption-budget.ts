import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { Instance } from '../instance';
import { templateContext } from '../template-context';
import type { HelmPodDisruptionBudget } from '../service-definition';

/**
 * The `policy/v1` PodDisruptionBudget of a clustered chart-based instance, named after it
 * (see HelmService.siteforgePodDisruptionBudget): it selects the pods by the labels its catalog
 * entry gives, and keeps a quorum of them running (`minAvailable: quorum`), or all but
 * `maxUnavailable`.
 */
export function addPodDisruptionBudget(scope: Construct, instance: Instance, budget: HelmPodDisruptionBudget): ApiObject {
  const context = templateContext(instance);
  const matchLabels = Object.fromEntries(Object.entries(budget.selector).map(([label, value]) => [label, value(context)]));
  const { quorum } = context.instance as { readonly quorum: number };
  const keep = budget.minAvailable === 'quorum' ? { minAvailable: quorum } : { maxUnavailable: budget.maxUnavailable };
  return new ApiObject(scope, 'pod-disruption-budget', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: instance.name },
    spec: { ...keep, selector: { matchLabels } },
  });
}
