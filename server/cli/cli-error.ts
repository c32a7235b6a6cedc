/** Exit statuses a pipeline can branch on; `request --wait` documents 0, 3, 4 and 5. */
export const EXIT = {
  ok: 0,
  /** The command ran but the answer is "no": a broken audit chain, an invalid grant, an error from the hub. */
  failed: 1,
  /** Bad flags, a missing token, or no hub to talk to. */
  usage: 2,
  denied: 3,
  expired: 4,
  timedOut: 5,
} as const;

/** An error the CLI reports as one line on stderr before exiting with `exitCode`. */
export class CliError extends Error {
  readonly code: string | null;
  readonly exitCode: number;
  constructor(message: string, options: { code?: string | null; exitCode?: number } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = options.code ?? null;
    this.exitCode = options.exitCode ?? EXIT.failed;
  }

  /** The line printed on stderr: `error: <message> (<CODE>)`. */
  describe(): string {
    return this.code ? `error: ${this.message} (${this.code})` : `error: ${this.message}`;
  }
}

export const usageError = (message: string): CliError => new CliError(message, { exitCode: EXIT.usage });
