import { randomBytes } from 'node:crypto';

/** Time-ordered ids: sortable by creation, unguessable in their tail. */
export function newId(prefix: string, now: Date = new Date()): string {
  return `${prefix}_${now.getTime().toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
