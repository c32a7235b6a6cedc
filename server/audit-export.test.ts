import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit, inTransaction } from './domain/context.js';
import { ADMIN_TOKEN, TestHub } from './test-support/hub-fixture.js';

const EVENTS = 2_500;

describe('audit export over many pages', () => {
  const hub = new TestHub('sqlite');
  beforeAll(async () => {
    await hub.start();
    const ctx = hub.hub.ctx;
    await inTransaction(ctx, async (trx) => {
      for (let i = 0; i < EVENTS; i++) await audit(ctx, trx, { actor: 'exporter', type: 'policy.loaded', outcome: 'loaded', data: { n: i } });
    });
  });
  afterAll(() => hub.dispose());

  const exported = async (format: 'csv' | 'jsonl') => {
    const response = await fetch(`${hub.url}/api/v1/audit?format=${format}&actor=exporter`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { response, lines: (await response.text()).trimEnd().split('\n') };
  };

  it('streams every matching event as JSON lines, newest first, with no gap at the page boundaries', async () => {
    const { response, lines } = await exported('jsonl');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="greenlight-audit-.+\.jsonl"/);
    const events = lines.map((line) => JSON.parse(line) as { seq: number; data: { n: number } });
    expect(events).toHaveLength(EVENTS);
    expect(events.map((event) => event.data.n)).toEqual(Array.from({ length: EVENTS }, (_, i) => EVENTS - 1 - i));
    for (let i = 1; i < events.length; i++) expect(events[i - 1]!.seq - events[i]!.seq).toBe(1);
  });

  it('streams the same events as CSV under one header row', async () => {
    const { response, lines } = await exported('csv');
    expect(response.headers.get('content-type')).toContain('text/csv');
    expect(lines[0]).toBe('seq,at,actor,type,requestId,action,resource,environment,outcome,data,hash');
    expect(lines).toHaveLength(EVENTS + 1);
    expect(lines.filter((line) => line.startsWith('seq,'))).toHaveLength(1);
  });
});

describe('audit search', () => {
  const hub = new TestHub('sqlite');
  beforeAll(async () => {
    await hub.start();
    const ctx = hub.hub.ctx;
    await inTransaction(ctx, async (trx) => {
      for (const note of ['50% of traffic', '500 requests', 'off_peak window', 'offXpeak']) await audit(ctx, trx, { actor: 'searcher', type: 'policy.loaded', outcome: 'loaded', data: { note } });
    });
  });
  afterAll(() => hub.dispose());

  const search = async (q: string) =>
    (await hub.api<{ events: { data: { note?: string } }[] }>('GET', `/api/v1/audit?actor=searcher&q=${encodeURIComponent(q)}`, ADMIN_TOKEN)).body.events.map((event) => event.data.note).sort();

  it('finds the words typed: % and _ match only themselves', async () => {
    expect(await search('50%')).toEqual(['50% of traffic']);
    expect(await search('%')).toEqual(['50% of traffic']);
    expect(await search('off_peak')).toEqual(['off_peak window']);
    expect(await search('OFF')).toEqual(['offXpeak', 'off_peak window']);
  });
});
