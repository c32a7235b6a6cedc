import { describe, expect, it } from 'vitest';
import { freezeRule, parsePolicy } from './policy.js';

const rule = (extra: string) => `
rules:
  - name: prod-db
    approvers: [dba]
${extra}`;

describe('policy windows and scheduling limits', () => {
  it('reads windows (one across midnight) and maxScheduleAhead onto the frozen rule', () => {
    const policy = parsePolicy(
      rule(`    maxScheduleAhead: 3d
    windows:
      - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: Europe/Berlin }
      - { days: [sat], from: "22:00", to: "02:00", timezone: Europe/Berlin }`),
    );
    const frozen = freezeRule(policy.rules[0]!);
    expect(frozen.maxScheduleAheadSeconds).toBe(3 * 86_400);
    expect(frozen.windows).toEqual([
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '19:00', timezone: 'Europe/Berlin' },
      { days: ['sat'], from: '22:00', to: '02:00', timezone: 'Europe/Berlin' },
    ]);
  });

  it.each([
    ['    windows: [{ days: [mon], from: "08:00", to: "19:00", timezone: Europe/Atlantis }]', /rule "prod-db": windows\.0\.timezone: unknown time zone/],
    ['    windows: [{ days: [mon], from: "08:00", to: "08:00", timezone: UTC }]', /rule "prod-db": windows\.0\.to: a window needs from and to to differ/],
    ['    windows: [{ days: [funday], from: "08:00", to: "09:00", timezone: UTC }]', /rule "prod-db": windows\.0\.days\.0/],
    ['    windows: [{ days: [mon], from: "8am", to: "09:00", timezone: UTC }]', /rule "prod-db": windows\.0\.from: expected a time of day as HH:MM/],
    ['    windows: []', /rule "prod-db": windows: list at least one window/],
    ['    maxScheduleAhead: soon', /rule "prod-db": maxScheduleAhead: expected a duration/],
  ])('refuses %s, naming the rule and the field', (extra, message) => {
    expect(() => parsePolicy(rule(extra))).toThrow(message);
  });
});
