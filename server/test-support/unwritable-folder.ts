import { execFileSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Makes a folder refuse new files, as a read-only key volume does, for whoever runs the tests: a mode
 * without write permission for a user, the immutable attribute for root (whom modes don't stop).
 * Returns how to undo it. Throws when the folder still takes files, so no test passes for want of it.
 */
export function makeUnwritable(dir: string): () => void {
  const root = process.getuid?.() === 0;
  if (root) execFileSync('chattr', ['+i', dir]);
  else chmodSync(dir, 0o500);
  const undo = () => (root ? execFileSync('chattr', ['-i', dir]) : chmodSync(dir, 0o700));
  const probe = path.join(dir, 'probe');
  try {
    writeFileSync(probe, '');
  } catch {
    return undo;
  }
  rmSync(probe);
  undo();
  throw new Error(`cannot make ${dir} unwritable here (${root ? 'chattr +i had no effect' : 'chmod had no effect'})`);
}
