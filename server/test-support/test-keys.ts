import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

/**
 * Where test hubs keep the key files a hub keeps outside its data directory: one folder shared by
 * every test hub of this user, so hubs on one PostgreSQL database (which must share the keys) do,
 * and no test writes to the real ~/.config.
 */
export function sharedTestKeyFiles(): { checkpointKeyFile: string; keyEncryptionKeyFile: string } {
  const dir = path.join(tmpdir(), `greenlight-test-keys-${userInfo().uid}`);
  return { checkpointKeyFile: path.join(dir, 'checkpoint-key.pem'), keyEncryptionKeyFile: path.join(dir, 'key-encryption-key') };
}
