/** Types for start-args.mjs, which `npm start` runs as plain JavaScript before anything is built. */
export function hubArguments(args: string[]): { port: string | undefined; dataDirArg: string | undefined; policyArg: string | undefined; passThrough: string[] };
export function shellWord(word: string): string;
