import { z } from 'zod';
import { notificationEventSchema, riskSchema } from '../../protocol/index.js';

/** Lines of the diff an email shows; the whole diff is one click away in the console. */
export const DIFF_LINES_IN_EMAIL = 20;

/**
 * What an email row of the outbox holds: the recipient and what their message says, as of the
 * transaction that wrote it. No link token: those are derived when the message is sent.
 */
export const emailPayloadSchema = z.object({
  type: notificationEventSchema,
  timestamp: z.string(),
  /** Urgent news to read, not a decision to make (break-glass); rows written before it existed have none. */
  alert: z.string().nullable().default(null),
  to: z.object({ name: z.string(), address: z.string() }),
  /**
   * Whom a delegate may decide for, each named in a pair of links (their own name first when asked
   * themselves): only those whose vote would still count, as the console offers them; one name when
   * just one would count but an unnamed vote would land elsewhere. Empty (and in rows written before
   * it existed): one pair, deciding as the recipient, or for the one approver they stand in for.
   */
  decidesFor: z.array(z.string()).default([]),
  request: z.object({
    id: z.string(),
    action: z.string(),
    resource: z.string(),
    environment: z.string(),
    requester: z.string(),
    reason: z.string(),
    risk: riskSchema,
    summary: z.string().nullable(),
    diffHead: z.string().nullable(),
    diffMoreLines: z.number().int(),
    links: z.array(z.object({ title: z.string(), url: z.string() })),
    nextEscalationAt: z.string().nullable(),
    expiresAt: z.string().nullable(),
    rule: z.string(),
    /** High or critical risk without the rule's `emailApprove`: the links ask for the console. */
    consoleOnly: z.boolean(),
  }),
});
export type EmailPayload = z.infer<typeof emailPayloadSchema>;

/** A message ready for the SMTP server: the subject and the same content as plain text and HTML. */
export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}
