import { createHash } from 'node:crypto';
import { ApiObject } from 'cdk8s';
import { Environment } from '../environment';
import type { Construct } from 'constructs';
import type { Instance } from '../instance';
import { dashboardNameOf } from './object-names';

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
 * when the service ships one (`monitor/dashboard.json`). Each instance gets its own copy: its
 * uid is derived from namespace and instance (Grafana refuses two dashboards with one uid) and
 * its title names the instance.
 */
export function addDashboard(scope: Construct, instance: Instance): ApiObject | undefined {
  const source = instance.service.monitoring?.dashboard;
  if (!source) return undefined;
  const namespace = Environment.of(instance).cluster?.namespace ?? '';
  const parsed = JSON.parse(source) as Record<string, unknown>;
  const uid = `sf-${createHash('sha256').update(`${namespace}/${instance.name}`).digest('hex').slice(0, 20)}`;
  const title = `${typeof parsed.title === 'string' ? parsed.title : instance.service.name} (${instance.name})`;
  const dashboard = `${JSON.stringify({ ...parsed, uid, title }, null, 2)}\n`;
  return new ApiObject(scope, 'dashboard', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: dashboardNameOf(instance), labels: { [DASHBOARD_LABEL]: '1' } },
    data: { [`${instance.name}.json`]: dashboard },
  });
}
