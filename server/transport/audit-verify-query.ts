import { z } from 'zod';
import { MAX_SEQ } from '../../protocol/audit.js';

/** `SEQ:HASH`, the form `--expect` takes; the CLI sends checkpoints as `SEQ:HASH:CHAIN`. */
export const seqHashSchema = z
  .string()
  .regex(/^[1-9]\d{0,9}:[0-9a-f]{64}(:[A-Za-z0-9_-]{1,100})?$/, 'expected SEQ:HASH, an event number and its 64-hex-digit hash')
  .refine((text) => Number(text.split(':')[0]) <= MAX_SEQ, 'expected SEQ:HASH, an event number and its 64-hex-digit hash')
  .transform((text) => {
    const [seq, hash, chainId] = text.split(':') as [string, string, string | undefined];
    return chainId === undefined ? { seq: Number(seq), hash } : { seq: Number(seq), hash, chainId };
  });

const seqHashList = z
  .string()
  .max(20 * 200, 'at most 20 entries')
  .transform((text, ctx) => {
    const out: { seq: number; hash: string }[] = [];
    for (const part of text.split(',').filter(Boolean)) {
      const parsed = seqHashSchema.safeParse(part);
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'bad entry' });
        return z.NEVER;
      }
      out.push(parsed.data);
    }
    return out;
  });

/** `expect`: hashes vouched for by the caller; `checkpoints`: checkpoints the caller holds (signatures it checked) that the database must still have. */
export const auditVerifyQuerySchema = z.strictObject({
  expect: seqHashList.optional(),
  checkpoints: seqHashList.optional(),
});
