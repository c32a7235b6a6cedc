import { describe, expect, it } from 'vitest';
import { WebBridge } from './web-bridge.js';
import { memoryStorage } from './memory-storage.js';

describe('WebBridge and desktop settings', () => {
  it('reports that the web console keeps no desktop settings', () => {
    expect(new WebBridge(memoryStorage()).supportsDesktopSettings).toBe(false);
  });

  it('refuses to read or change them, saying where they live', async () => {
    const bridge = new WebBridge(memoryStorage());
    await expect(bridge.getSettings()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not available in the web console/) });
    await expect(bridge.updateSettings({ launchAtLogin: true })).rejects.toMatchObject({ message: expect.stringMatching(/desktop app/) });
  });
});
