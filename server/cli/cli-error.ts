/** Exit statuses a pipeline can branch on; `request --wait` documents 0, 3, 4 and 5. */
export const EXIT = {
  ok: 0,
  /** The command ran but the answer is "no": a broken audit chain, an invalid grant, an error from the hub. */
  failed: 1,
  /** Bad flags, a missing token, or no hub to talk to. */
  usage: 2,
  /** `request --wait`: an approver denied it. Only a person's deny; a refusal by the hub is `failed`. */
  denied: 3,
  expired: 4,
  timedOut: 5,
} as const;

/**
 * Codes for what the CLI finds wrong itself, beside the hub's own codes (`--json` prints one or the
 * other): bad flags, no hub at the address, an answer this CLI can't read, a local failure.
 */
export const LOCAL_CODES = ['USAGE', 'UNREACHABLE', 'BAD_ANSWER', 'FAILED'] as const;
export type LocalCode = (typeof LOCAL_CODES)[number];

/** An error the CLI reports as one line on stderr (a JSON object with `--json`) before exiting with `exitCode`. */
export class CliError extends Error {
  /** The hub's error code, when the hub refused; null when the CLI found the problem itself. */
  readonly code: string | null;
  readonly exitCode: number;
  readonly localCode: LocalCode;
  /** No connection to the hub was ever made, so what the command meant to send surely was not. */
  readonly neverSent: boolean;
  /** The hub's name does not resolve: more likely a wrong address than a hub restarting. */
  readonly noSuchHost: boolean;
  constructor(message: string, options: { code?: string | null; exitCode?: number; localCode?: LocalCode; neverSent?: boolean; noSuchHost?: boolean } = {}) {
    super(message);
    this.name = 'CliError';
    this.code = options.code ?? null;
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.localCode = options.localCode ?? (this.exitCode === EXIT.usage ? 'USAGE' : 'FAILED');
    this.neverSent = options.neverSent ?? false;
    this.noSuchHost = options.noSuchHost ?? false;
  }

  /** The line printed on stderr: `error: <message> (<CODE>)`. */
  describe(): string {
    return this.code ? `error: ${this.message} (${this.code})` : `error: ${this.message}`;
  }

  /** What `--json` prints on stderr: the shape the hub's own errors have. */
  toJson(): { error: { code: string; message: string } } {
    return { error: { code: this.code ?? this.localCode, message: this.message } };
  }
}

export const usageError = (message: string): CliError => new CliError(message, { exitCode: EXIT.usage });
