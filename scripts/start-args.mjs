// What `npm start` reads from the arguments it passes to the hub, and how it prints commands to paste.
import { parseArgs } from 'node:util';

/** The hub flags this script needs to know (port, data directory, policy), and every other argument as given. */
export function hubArguments(args) {
  const { values, tokens } = parseArgs({
    args,
    options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, policy: { type: 'string' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const taken = new Set();
  for (const token of tokens) {
    if (token.kind !== 'option' || !['port', 'data-dir', 'policy'].includes(token.name)) continue;
    taken.add(token.index);
    if (!token.inlineValue && token.value !== undefined) taken.add(token.index + 1);
  }
  const str = (value) => (typeof value === 'string' ? value : undefined);
  return { port: str(values.port), dataDirArg: str(values['data-dir']), policyArg: str(values.policy), passThrough: args.filter((_, index) => !taken.has(index)) };
}

/** Quotes a word for a POSIX shell when it needs it, so printed commands can be pasted as they are. */
export const shellWord = (word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
