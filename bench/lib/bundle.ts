/**
 * Bundles a TypeScript entry into one plain ESM file under node_modules/.cache, so the server
 * and fleet processes run without a TypeScript loader: its thread and transform cache would
 * add CPU and RSS to the figures (and `--cpu-prof` output reads cleaner). npm packages stay
 * external and resolve from the repository's node_modules.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OUT_DIR = path.join(REPO, 'node_modules/.cache/tiota-bench');

/** Returns the path of the bundled file for `entry` (relative to the repository). */
export async function bundle(entry: string): Promise<string> {
  const outfile = path.join(OUT_DIR, `${path.basename(entry, '.ts')}.mjs`);
  await build({
    entryPoints: [path.join(REPO, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'error',
  });
  return outfile;
}
