import { deriveKey } from './derive-key.js';
import { isEncrypted, seal, unseal } from './key-encryption.js';

/** What a sealed token is bound to: it opens only for this grant of this request. */
export interface SealedFor {
  jti: string;
  requestId: string;
}

/**
 * Grant tokens as the database (and the other hubs, through PostgreSQL) hold them: sealed with a key
 * derived from the key-encryption key, which lives outside the database. Whoever can read the
 * database, a backup of it or the hubs' notifications can't use a grant issued to someone else.
 * `unopened` hears of each token that does not open (sealed with another key, for another grant, or
 * altered): it is left out, never shown as it is.
 */
export class GrantTokenSeal {
  private readonly key: Buffer;

  constructor(
    keyEncryptionKey: Buffer,
    private readonly unopened: (grant: SealedFor, where: string) => void = () => undefined,
  ) {
    this.key = deriveKey(keyEncryptionKey, 'grant tokens v1');
  }

  seal(grant: SealedFor, token: string): string {
    return seal(this.key, binding(grant), token);
  }

  /** A token another hub sent, sealed; null when it does not open. */
  open(grant: SealedFor, sealed: string): string | null {
    return this.opened(grant, sealed, 'from another hub');
  }

  /** A token as stored: sealed, or in plain by a hub from before sealing (until the next start seals it). */
  openStored(grant: SealedFor, stored: string): string | null {
    return isEncrypted(stored) ? this.opened(grant, stored, 'in the database') : stored;
  }

  private opened(grant: SealedFor, sealed: string, where: string): string | null {
    const token = unseal(this.key, binding(grant), sealed);
    if (token === null) this.unopened(grant, where);
    return token;
  }
}

const binding = ({ jti, requestId }: SealedFor) => `greenlight grant token ${jti} of ${requestId}`;
