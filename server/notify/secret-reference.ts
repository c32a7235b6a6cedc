import { z } from 'zod';

/** A secret as the hub configuration holds it: `env:VAR`, `file:/path` or the literal; `secrets.ts` resolves it at start. */
export const secretReferenceSchema = z.string().min(1, 'must not be empty').max(4096);
