import { z } from 'zod';

/**
 * How a hub on a shared PostgreSQL database stands with the others: the hubs it has heard from, with
 * the policy each runs, and whether its own clock is off. Part of the setup status, and pushed to
 * admins' sockets (`cluster:status`) whenever one of its warnings appears, changes or clears.
 */
export const clusterStatusSchema = z.object({
  // `hub`: the hub's id, unique where host and URL need not be (hubs behind one public URL); absent from older hubs.
  hubs: z.array(z.object({ hub: z.string().optional(), host: z.string(), url: z.string(), file: z.string().nullable(), digest: z.string(), samePolicy: z.boolean() })),
  /** What to do while some hub runs another policy, in a sentence naming them; null while every hub heard from runs this one's. */
  policyWarning: z.string().nullable(),
  /**
   * How far this hub's system clock is ahead of the database's, in seconds (negative: behind);
   * null until measured; absent from older hubs.
   */
  clockAheadSeconds: z.number().nullable().optional(),
  /** What to do while this hub's clock is over 30 s from the database's, in a sentence; null otherwise; absent from older hubs. */
  clockWarning: z.string().nullable().optional(),
});
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;

/**
 * What an admin needs to finish setting a hub up (admins only, `GET /api/v1/setup`): where the
 * rules come from, how many people can sign in, and whether each group a rule asks to approve has
 * anyone in it who can.
 */
export const setupStatusSchema = z.object({
  policy: z.object({
    /** A file the hub watches and reloads, or the built-in rule (one approval from group `approvers`). */
    source: z.enum(['file', 'built-in']),
    file: z.string().nullable(),
    rules: z.number().int(),
    /** The first digits of the SHA-256 of the rules as parsed: hubs showing the same one decide alike (absent from older hubs). */
    digest: z.string().optional(),
  }),
  users: z.object({ active: z.number().int(), total: z.number().int() }),
  /** Each group a rule names as approvers, the rules naming it, and its active members who may approve. */
  approverGroups: z.array(z.object({ group: z.string(), rules: z.array(z.string()), approvers: z.array(z.string()) })),
  /**
   * The other hubs on this hub's PostgreSQL database it has heard from, with the policy each runs;
   * null on a hub alone (SQLite), absent from older hubs.
   */
  cluster: clusterStatusSchema.nullable().optional(),
});
export type SetupStatus = z.infer<typeof setupStatusSchema>;
