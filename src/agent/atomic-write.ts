import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

let counter = 0;

/**
 * Replaces `file` so that after a power cut it holds either the old or the new content, never
 * a mix: write a temp file beside it, fsync it, rename it over the old one, fsync the folder
 * (the rename itself lives in the folder's entry, POSIX rename(2)).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = `${file}.${process.pid}.${++counter}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, file);
  await fsyncDir(path.dirname(file));
}

/** Makes renames and unlinks inside `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
