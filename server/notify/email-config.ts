import { z } from 'zod';
import { secretReferenceSchema } from './secret-reference.js';

/**
 * `notifiers.email`: the SMTP server email goes out through and the sender it goes out as. The
 * password is a secret reference (`env:VAR`, `file:/path` or the literal), resolved at start.
 */
export const smtpConfigSchema = z
  .strictObject({
    host: z.string().trim().min(1, 'expected the SMTP server, such as smtp.example.com'),
    port: z.number().int().min(1).max(65_535).default(587),
    /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    user: z.string().min(1).optional(),
    password: secretReferenceSchema.optional(),
    /** Messages in flight at once (SMTP connections kept open). */
    maxConcurrency: z.number().int().min(1).max(16).default(2),
  })
  // Signing in takes both: one alone would be dropped in silence and mail sent without signing in.
  .superRefine((smtp, context) => {
    if (smtp.user !== undefined && smtp.password === undefined) {
      context.addIssue({ code: 'custom', path: ['password'], message: 'give the password to sign in as this user (env:VAR, file:/path or the value), or leave out user to send without signing in' });
    }
    if (smtp.password !== undefined && smtp.user === undefined) {
      context.addIssue({ code: 'custom', path: ['user'], message: 'give the user this password signs in as, or leave out password to send without signing in' });
    }
  });

export const emailConfigSchema = z.strictObject({
  smtp: smtpConfigSchema,
  /** `Greenlight <greenlight@example.com>` or a bare address. */
  from: z.string().trim().min(3).max(320).regex(/^(?:[^<>\r\n]*<[^<>\s@]+@[^<>\s@]+>|[^<>\s@]+@[^<>\s@]+)$/, 'expected an address, or "Name <address>"'),
});
export type EmailConfig = z.infer<typeof emailConfigSchema>;
