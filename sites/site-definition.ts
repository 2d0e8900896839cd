import type { Construct } from 'constructs';
import type { Site } from '../constructs';
import type { Catalog } from '../catalog';

/**
 * A delivery site as the fleet lists it: its name, and a builder that creates its construct
 * tree under `scope`. The engine builds one site at a time and drops it once rendered.
 */
export interface SiteDefinition {
  readonly name: string;
  build(scope: Construct, catalog: Catalog): Site;
}
