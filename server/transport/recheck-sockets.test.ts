import { describe, expect, it } from 'vitest';
import { oneAtATime } from './recheck-sockets.js';

function controlledRuns() {
  const finishers: Array<(error?: Error) => void> = [];
  const recheck = () => new Promise<void>((resolve, reject) => finishers.push((error) => (error ? reject(error) : resolve())));
  return { recheck, finishers };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('oneAtATime', () => {
  it('runs once more after the current run when asked meanwhile, however often', async () => {
    const { recheck, finishers } = controlledRuns();
    const ask = oneAtATime(recheck, () => undefined);
    ask();
    ask();
    ask();
    expect(finishers).toHaveLength(1);
    finishers[0]!();
    await settle();
    expect(finishers).toHaveLength(2);
    finishers[1]!();
    await settle();
    expect(finishers).toHaveLength(2);
  });

  it('reports a failed run and runs again when next asked', async () => {
    const { recheck, finishers } = controlledRuns();
    const failures: unknown[] = [];
    const ask = oneAtATime(recheck, (error) => failures.push(error));
    ask();
    finishers[0]!(new Error('database unreachable'));
    await settle();
    expect(failures).toEqual([new Error('database unreachable')]);
    ask();
    expect(finishers).toHaveLength(2);
  });
});
