import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import type { Instance } from '../instance';

/** Label the Grafana chart's dashboard sidecar looks for (`sidecar.dashboards.label`). */
export const DASHBOARD_LABEL = 'grafana_dashboard';

/**
 * A `ServiceMonitor` (Prometheus operator, monitoring.coreos.com/v1) scraping the instance's
 * metrics port, selecting its Service by the instance labels.
 */
export function addServiceMonitor(scope: Construct, instance: Instance, selector: Record<string, string>): ApiObject {
  const monitoring = instance.service.monitoring!;
  return new ApiObject(scope, 'service-monitor', {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: instance.name },
    spec: {
      selector: { matchLabels: selector },
      endpoints: [{ port: monitoring.port, path: monitoring.path, interval: monitoring.interval }],
    },
  });
}

/**
 * The service's Grafana dashboard as a ConfigMap labelled for Grafana's dashboard sidecar,
 * when the service ships one (`monitor/dashboard.json`).
 */
export function addDashboard(scope: Construct, instance: Instance): ApiObject | undefined {
  const dashboard = instance.service.monitoring?.dashboard;
  if (!dashboard) return undefined;
  return new ApiObject(scope, 'dashboard', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${instance.name}-dashboard`, labels: { [DASHBOARD_LABEL]: '1' } },
    data: { [`${instance.name}.json`]: dashboard },
  });
}
