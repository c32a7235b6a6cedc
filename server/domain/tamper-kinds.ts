/**
 * How `audit verify` finds the chain itself broken. Apart from audit-verify.ts so the API's answer
 * schema, which the standalone CLI bundles, can read the list without the database code.
 */
export const CHAIN_TAMPER_KINDS = ['chain', 'truncated', 'rewritten', 'bad_signature', 'checkpoint_deleted', 'foreign_checkpoints'] as const;
