import type { SiteDefinition } from './site-definition';
import { demo } from './demo';
import { acme } from './acme';
import { rainbond } from './rainbond';
import { choerodon } from './choerodon';
import { koca } from './koca';
import { blueking } from './blueking';

export type { SiteDefinition } from './site-definition';

/** The example fleet `npm start` synthesizes. */
export const fleet: readonly SiteDefinition[] = [demo, acme, choerodon, koca, blueking, rainbond];
