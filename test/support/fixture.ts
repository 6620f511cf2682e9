import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whichever folder CI cloned it into. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real TiJOS package: shared/ sits beside the repository (see shared/README.md). */
export const FIXTURE_TAPK = path.resolve(REPO_ROOT, '../shared/fixtures/tapk/tijos-http-ota.tapk');

/** The compiled CLI, as users run it (`npm test` builds first). */
export const CLI = path.join(REPO_ROOT, 'bin/tiota.js');
