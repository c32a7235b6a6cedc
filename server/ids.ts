import { randomFillSync } from 'node:crypto';

// Random bytes drawn in blocks: one system call per 512 ids instead of one each.
const TAIL_BYTES = 8;
const pool = Buffer.alloc(TAIL_BYTES * 512);
let offset = pool.length;

function randomTail(): string {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const tail = pool.toString('hex', offset, offset + TAIL_BYTES);
  offset += TAIL_BYTES;
  return tail;
}

/** Time-ordered ids: sortable by creation, unguessable in their tail. */
export function newId(prefix: string, now: Date = new Date()): string {
  return `${prefix}_${now.getTime().toString(36).padStart(9, '0')}${randomTail()}`;
}
