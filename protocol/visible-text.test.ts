import { describe, expect, it } from 'vitest';
import { cancelInputSchema, extendInputSchema, newRequestSchema, reviewInputSchema } from './request.js';
import { newDelegationSchema } from './delegation.js';
import { visibleLength } from './visible-text.js';
import { parseOrThrow } from './errors.js';

const request = (extra: Record<string, unknown>) => ({ action: 'deploy', resource: 'payments-api', environment: 'production', reason: 'ship the fix', ...extra });
const issuesOf = (result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }) =>
  (result.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`);

// Drawn as nothing, or as a space, in every font a reviewer is likely to use.
const BLANKS = ['\u200B', '\u200D', '\u2060', '\u00AD', '\u3000', '\u3164', '\uFFA0', '\u115F', '\u2800', '\u034F', '\uFE0F', '\u{E0100}', '\u17B4', '\u2028', '\u{E0080}'].map((blank) => ({
  blank,
  code: (blank.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0'),
}));

describe('text someone must fill in has to show something', () => {
  it('counts only what a reader sees', () => {
    // The ideographic space and the line separator among them part two words; the rest draw nothing.
    expect(visibleLength(`a${BLANKS.map(({ blank }) => blank).join('')}b`)).toBe(3);
    expect(visibleLength('✔️ déployé 部署')).toBe(12);
    // Spaces between words count, as a reader counts them; padding around them does not.
    expect(visibleLength(' \u200B the db is on fire again! \u3000')).toBe(24);
    expect(visibleLength(`a${' '.repeat(18)}b`)).toBe(3);
    expect(visibleLength(`db${' \u200B'.repeat(9)}`)).toBe(2);
    expect(visibleLength('on\u00A0fire,\nagain')).toBe(14);
  });

  for (const { blank, code } of BLANKS) it(`refuses a reason, a comment, an incident or a delegation reason made only of U+${code}`, () => {
    const text = blank.repeat(25);
    expect(issuesOf(newRequestSchema.safeParse(request({ reason: text })))).toEqual(['reason: say why you need this']);
    expect(issuesOf(newRequestSchema.safeParse(request({ breakGlass: { incident: text } })))).toContain('breakGlass.incident: name the incident, e.g. INC-4412');
    expect(issuesOf(extendInputSchema.safeParse({ ttlSeconds: 60, reason: text }))).toEqual(['reason: say why you need more time']);
    expect(issuesOf(cancelInputSchema.safeParse({ reason: text }))).toEqual(['reason: say why it is cancelled']);
    expect(issuesOf(reviewInputSchema.safeParse({ outcome: 'ratified', comment: text }))).toEqual(['comment: say why, for the record']);
    expect(issuesOf(newDelegationSchema.safeParse({ to: 'carol', endsAt: '2026-12-31T18:00:00Z', reason: text }))).toEqual(['reason: say why, e.g. "holiday"']);
  });

  for (const { blank, code } of BLANKS) it(`refuses a resource, a link title or a field name holding U+${code}`, () => {
    expect(issuesOf(newRequestSchema.safeParse(request({ resource: `payments${blank}-api` })))[0]).toMatch(/^resource: must not contain (spaces|invisible characters)/);
    expect(issuesOf(newRequestSchema.safeParse(request({ context: { links: [{ title: blank, url: 'https://ci.example.com/1' }] } })))[0]).toMatch(/^context\.links\.0\.title: give the link a title a reader can see/);
    // The refused key is named escaped, so the error does not carry the invisible character on.
    const escaped = code.length > 4 ? `\\u{${code.toLowerCase()}}` : `\\u${code.toLowerCase()}`;
    expect(() => parseOrThrow(newRequestSchema, request({ context: { fields: { [blank]: 'x' } } }), 'request')).toThrow(
      `Invalid request: context.fields."${escaped}": a key: name the field with something a reader can see, e.g. "ticket"`,
    );
  });

  it('counts a break-glass reason by what shows, and keeps text with emoji and accents as written', () => {
    const padded = newRequestSchema.safeParse(request({ reason: `db down${'\u200B'.repeat(20)}`, breakGlass: { incident: 'INC-1' } }));
    expect(issuesOf(padded)).toEqual(['reason: break-glass needs a reason of at least 20 characters: reviewers read it']);
    expect(newRequestSchema.safeParse(request({ reason: 'the db is on fire again!', breakGlass: { incident: 'INC-1' } })).success).toBe(true);
    expect(issuesOf(newRequestSchema.safeParse(request({ reason: `db${' '.repeat(30)}down`, breakGlass: { incident: 'INC-1' } })))).toEqual([
      'reason: break-glass needs a reason of at least 20 characters: reviewers read it',
    ]);
    const fine = newRequestSchema.parse(request({ reason: '  ✔️ rollback: the 部署 of v2 broke checkout  ', breakGlass: { incident: 'INC-4412' }, context: { links: [{ title: '✔️ CI', url: 'https://ci.example.com/1' }] } }));
    expect(fine.reason).toBe('✔️ rollback: the 部署 of v2 broke checkout');
    expect(fine.context.links?.[0]?.title).toBe('✔️ CI');
  });

  it('never echoes a key it refuses as sent: an unknown key holding a direction control comes back escaped', () => {
    const refuse = () => parseOrThrow(newRequestSchema, { ...request({}), 'approved\u202Eyb': true }, 'request');
    expect(refuse).toThrow('Invalid request: body: Unrecognized key: "approved\\u202eyb"');
    try {
      refuse();
    } catch (error) {
      expect((error as Error).message).not.toContain('\u202E');
    }
  });
});

describe('a resource cannot pass for another one', () => {
  const resourceIssues = (resource: string) => issuesOf(newRequestSchema.safeParse(request({ resource })));

  it.each([
    ['a Cyrillic а among Latin letters', 'pаyments-api', /^resource: must not mix Latin and Cyrillic letters in one word \("pаyments"\)/],
    ['a Greek ο among Latin letters', 'payments-apο', /^resource: must not mix Latin and Greek letters in one word \("apο"\)/],
    ['an Armenian օ among Latin letters', 'pօstgres', /^resource: must not mix Latin and Armenian letters in one word/],
    ['fullwidth letters', 'ｐａｙｍｅｎｔｓ-api', /^resource: must be written in plain characters: it reads as "payments-api"/],
    ['mathematical bold letters', '𝐩𝐚𝐲𝐦𝐞𝐧𝐭𝐬-api', /^resource: must be written in plain characters: it reads as "payments-api"/],
    ['a ligature', 'conﬁg-store', /^resource: must be written in plain characters: it reads as "config-store"/],
    ['an accent as a separate mark', 'cafe\u0301-api', /^resource: must be written in plain characters: it reads as "café-api"/],
    ['a hyphen that is not the ASCII one', 'payments\u2010api', /^resource: must use ASCII for punctuation, symbols and digits: U\+2010 is not, and such characters are drawn like - \/ \. : or a letter/],
    ['an en dash for a hyphen', 'payments\u2013api', /^resource: must use ASCII for punctuation, symbols and digits: U\+2013 is not/],
    ['a minus sign for a hyphen', 'payments\u2212api', /^resource: must use ASCII for punctuation, symbols and digits: U\+2212 is not/],
    ['a division slash for a slash', 'prod\u2215db', /^resource: must use ASCII for punctuation, symbols and digits: U\+2215 is not/],
    ['a fraction slash for a slash', 'prod\u2044db', /^resource: must use ASCII for punctuation, symbols and digits: U\+2044 is not/],
    ['a middle dot for a full stop', 'db\u00B7prod', /^resource: must use ASCII for punctuation, symbols and digits: U\+00B7 is not/],
    ['an Armenian full stop for a colon', 'arn\u0589aws', /^resource: must use ASCII for punctuation, symbols and digits: U\+0589 is not/],
    ['an Arabic-Indic zero for a full stop', 'db\u0660prod', /^resource: must use ASCII for punctuation, symbols and digits: U\+0660 is not/],
    ['a Lisu letter for a colon', 'arn\uA4FDaws\uA4FDs3', /^resource: must not mix Latin letters with U\+A4FD in one word \("arn\uA4FDaws\uA4FDs"\)/],
    ['a Lisu letter for a full stop', 'db\uA4F8prod', /^resource: must not mix Latin letters with U\+A4F8 in one word/],
    ['a Lisu capital among Latin letters', '\uA4D1ayments-api', /^resource: must not mix Latin letters with U\+A4D1 in one word/],
    ['a Devanagari visarga for a colon', 'arn\u0903aws', /^resource: must not mix Latin letters with U\+0903 in one word/],
    ['an NKo lajanyalan for an underscore', 'db\u07FAprod', /^resource: must not mix Latin letters with U\+07FA in one word/],
    ['a modifier letter for a colon', 'arn\u02D0aws', /^resource: must not use U\+02D0: it is a modifier letter or a combining mark of no script/],
    ['a Cyrillic word drawn like a Latin one', 'рау-api', /^resource: must not hold "рау", a word whose every letter is drawn like a Latin one: it reads as "pay"/],
    ['a capitalised Cyrillic word drawn like a Latin one', 'Рау', /^resource: must not hold "Рау", a word whose every letter is drawn like a Latin one: it reads as "Pay"/],
    ['a Cyrillic word in capitals drawn like a Latin one', 'НОТ-fix', /^resource: must not hold "НОТ", a word whose every letter is drawn like a Latin one: it reads as "HOT"/],
    ['capitals whose small letters look like no Latin ones', 'db-АВС', /^resource: must not hold "АВС", a word whose every letter is drawn like a Latin one: it reads as "ABC"/],
    ['a Greek word drawn like a Latin one', 'db-ορ', /^resource: must not hold "ορ", a word whose every letter is drawn like a Latin one: it reads as "op"/],
    ['a Lisu word drawn like a Latin one', 'ꓑꓮꓬ-prod', /^resource: must not hold "ꓑꓮꓬ", a word whose every letter is drawn like a Latin one: it reads as "PAY"/],
    ['a combining overlay NFKC leaves alone', 'prod\u0338db', /^resource: must not use U\+0338: it is a modifier letter or a combining mark of no script/],
  ])('refuses %s, naming what it would pass for', (_, resource, message) => {
    expect(resourceIssues(resource)).toEqual([expect.stringMatching(message)]);
  });

  it('quotes nothing back from a name already refused for an invisible character', () => {
    expect(resourceIssues('ｐay\u202Ements')).toEqual([expect.stringMatching(/^resource: must not contain invisible characters/)]);
  });

  it.each([
    ['plain ASCII', 'arn:aws:s3:::payments-bucket/reports'],
    ['a Cyrillic word beside a Latin one', 'платежи-api'],
    ['Cyrillic words with letters Latin lacks', 'данные-дб'],
    ['a Greek word with letters Latin lacks', 'αθήνα'],
    ['Greek capitals with letters Latin lacks', 'ΑΘΗΝΑ-db'],
    ['a Cyrillic word most of whose letters look Latin', 'хорошо'],
    ['Latin with Japanese', 'db-本番'],
    ['a composed accented letter', 'café-api'],
    ['digits and punctuation with Greek', 'ελλάδα-2'],
    ['Latin with katakana and its long vowel mark', 'dbサーバー-prod'],
    ['Latin with Korean', 'db-운영'],
    ['a Hindi word beside a Latin one', 'डेटाबेस-prod'],
    ['Latin letters with accents of other languages', 'zürich-łódź-ærø'],
    ['Latin letters with accents no one character holds', 'ẹ\u0301kọ\u0301-ė\u0303'],
  ])('accepts %s', (_, resource) => {
    expect(resourceIssues(resource)).toEqual([]);
  });
});
