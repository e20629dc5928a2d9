// mixed: several causes at once, as a real incident often is. Shares of the Failed launchers, largest first so that
// diagnose must rank `migration` on top: migration loops 40%, image pulls 25%, storage attach timeouts 20%,
// CNI sandbox failures 15% (the rounding remainder goes to migration).

import { cniFailures } from './cni.js';
import { defineScenario } from './define-scenario.js';
import { imagePullFailures } from './image-pull.js';
import { migrationStormFailures } from './migration-storm.js';
import { storageFailures } from './storage.js';

export const MIXED_SHARES = { migration: 0.4, image: 0.25, storage: 0.2, network: 0.15 } as const;

export const mixedScenario = defineScenario({
  name: 'mixed',
  summary: 'Migration loops (40%), image pulls (25%), storage timeouts (20%) and CNI failures (15%) at once',
  expectedTopCause: 'migration',
  causes: [
    { kind: migrationStormFailures, share: MIXED_SHARES.migration },
    { kind: imagePullFailures, share: MIXED_SHARES.image },
    { kind: storageFailures, share: MIXED_SHARES.storage },
    { kind: cniFailures, share: MIXED_SHARES.network },
  ],
});
