import { z } from 'zod';

/** Size limits on everything a client may send. A 1 MB diff is fine; a 50 MB one is refused. */
export const LIMITS = {
  identifier: 128,
  resource: 256,
  reason: 2_000,
  summary: 4_000,
  diffBytes: 5 * 1024 * 1024,
  logsBytes: 1024 * 1024,
  links: 20,
  linkTitle: 200,
  url: 2_048,
  fields: 50,
  fieldKey: 64,
  fieldValue: 1_000,
  comment: 2_000,
  idempotencyKey: 128,
  userName: 64,
  /** RFC 5321's longest forward path. */
  email: 254,
  groups: 50,
  maxTtlSeconds: 7 * 24 * 3600,
  /** HTTP bodies and socket payloads; a little above the largest request a client can legally send. */
  bodyBytes: 8 * 1024 * 1024,
  /** Grant verify and redeem answer anyone holding a token: a token and a modest payload, nothing more. */
  grantBodyBytes: 256 * 1024,
  /** Arrays and objects inside one another in a JSON body; a request needs 4. */
  jsonDepth: 32,
  pageSize: 500,
} as const;

/**
 * A number from a query string, written as people write one: digits, with a decimal point if the
 * schema allows fractions. `Number()` would also read "0x10", "5e1", " 5 " and "" (as 0); those are
 * refused, as the schema refuses any other text.
 */
export const queryNumber = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : value), schema);
