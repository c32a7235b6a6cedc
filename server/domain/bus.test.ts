import { describe, expect, it } from 'vitest';
import { HubBus, type HubEvent } from './bus.js';

describe('the domain bus', () => {
  it('a listener that throws is reported, and the listeners after it still hear of the committed change', () => {
    const failures: [string, string][] = [];
    const bus = new HubBus((error, event) => failures.push([(error as Error).message, event.type]));
    const heard: string[] = [];
    bus.on(() => {
      throw new Error('push failed');
    });
    const stop = bus.on((event) => heard.push(event.type));
    const event: HubEvent = { type: 'delegations.changed' };
    expect(() => bus.emit(event)).not.toThrow();
    expect(heard).toEqual(['delegations.changed']);
    expect(failures).toEqual([['push failed', 'delegations.changed']]);
    stop();
    bus.emit(event);
    expect(heard).toHaveLength(1);
  });
});
