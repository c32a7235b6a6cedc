import { z } from 'zod';
import { STATE_FINDING_REASONS, STATE_TABLES } from '../domain/state-check/compare.js';
import { CHAIN_TAMPER_KINDS } from '../domain/tamper-kinds.js';

const stateFindingSchema = z.object({
  reason: z.enum(STATE_FINDING_REASONS),
  table: z.enum(STATE_TABLES),
  requestId: z.string().nullable(),
  jti: z.string().optional(),
  approver: z.string().optional(),
  delegation: z.string().optional(),
  user: z.string().optional(),
  userId: z.string().optional(),
  field: z.string().optional(),
  state: z.string().nullable().optional(),
  log: z.string().nullable().optional(),
  problem: z.string(),
});

/** What `GET /api/v1/audit/verify` answers: the hub's route and the CLI read it with this one schema. */
export const auditVerifyOutcomeSchema = z.union([
  z.object({
    ok: z.literal(true),
    events: z.number(),
    // Absent from hubs older than chain-id checks: the CLI then can't tell whose checkpoints its files hold.
    chainId: z.string().nullable().optional(),
    checkpoint: z.object({ seq: z.number(), at: z.string().nullable(), source: z.string() }).nullable(),
    notes: z.array(z.string()),
  }),
  z.object({
    ok: z.literal(false),
    events: z.number(),
    brokenAt: z.number(),
    problem: z.string(),
    kind: z.enum(CHAIN_TAMPER_KINDS),
  }),
  z.object({
    ok: z.literal(false),
    events: z.number(),
    brokenAt: z.literal(0),
    problem: z.string(),
    kind: z.literal('state'),
    findings: z.array(stateFindingSchema),
    findingsTotal: z.number(),
  }),
]);
export type AuditVerifyAnswer = z.infer<typeof auditVerifyOutcomeSchema>;

/**
 * The same answer as a CLI reads it: a newer hub may name a table, a reason or a kind of break this
 * CLI does not know. Each still says `ok: false` and what is wrong in words, so it is shown as such
 * rather than refused as an answer this CLI does not understand (which hid every finding).
 */
export const auditVerifyAnswerReadSchema = z.union([
  auditVerifyOutcomeSchema.options[2].extend({ findings: z.array(stateFindingSchema.extend({ reason: z.string(), table: z.string() })) }),
  auditVerifyOutcomeSchema.options[0],
  // Not a state answer this CLI could not read: that is an answer it does not understand, not a break at event 0.
  auditVerifyOutcomeSchema.options[1].extend({ kind: z.string().refine((kind) => kind !== 'state') }),
]);
export type AuditVerifyAnswerRead = z.infer<typeof auditVerifyAnswerReadSchema>;
