import { writeFileSync } from 'node:fs';
import { renderCliReference } from '../src/cli/cli-reference.js';

writeFileSync(new URL('../docs/CLI.md', import.meta.url), await renderCliReference());
