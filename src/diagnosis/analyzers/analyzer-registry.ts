import type { CauseCategory } from '../types.js';
import { analyzeControlPlane } from './analyze-control-plane.js';
import { analyzeImage } from './analyze-image.js';
import { analyzeMigration } from './analyze-migration.js';
import { analyzeNetwork } from './analyze-network.js';
import { analyzeNode } from './analyze-node.js';
import { analyzeResources } from './analyze-resources.js';
import { analyzeStorage } from './analyze-storage.js';
import { analyzeUnknown } from './analyze-unknown.js';
import type { Analyzer } from './analyzer.js';

/** One analyzer per cause of the closed list (DESIGN §4); the order breaks ties between equal claims. */
export const ANALYZERS: Record<CauseCategory, Analyzer> = {
  image: analyzeImage,
  network: analyzeNetwork,
  storage: analyzeStorage,
  migration: analyzeMigration,
  resources: analyzeResources,
  node: analyzeNode,
  'control-plane': analyzeControlPlane,
  unknown: analyzeUnknown,
};
