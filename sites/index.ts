import type { SiteDefinition } from './site-definition';
import { demo } from './demo';
import { acme } from './acme';
import { rainbond } from './rainbond';

export type { SiteDefinition } from './site-definition';

/** The example fleet `npm start` synthesizes. */
export const fleet: readonly SiteDefinition[] = [demo, acme, rainbond];
