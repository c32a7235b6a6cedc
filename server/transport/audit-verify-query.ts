import { z } from 'zod';

/** `SEQ:HASH`, the form `--expect` takes and the CLI sends checkpoints in. */
export const seqHashSchema = z
  .string()
  .regex(/^[1-9]\d{0,15}:[0-9a-f]{64}$/, 'expected SEQ:HASH, an event number and its 64-hex-digit hash')
  .transform((text) => {
    const [seq, hash] = text.split(':') as [string, string];
    return { seq: Number(seq), hash };
  });

const seqHashList = z
  .string()
  .max(20 * 82, 'at most 20 entries')
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
