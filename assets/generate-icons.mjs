// Draws the app and tray icons with Node alone (zlib-compressed RGBA PNGs), so no image tool or
// download is needed. Run `node assets/generate-icons.mjs` after changing a colour or shape.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (bytes) => {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
};

/** Encodes a size×size RGBA image; `pixel(x, y)` returns [r, g, b, a] in 0..1 for a point in 0..1. */
function png(size, pixel) {
  const samples = 4;
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x += 1) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < samples; sy += 1) {
        for (let sx = 0; sx < samples; sx += 1) {
          const [pr, pg, pb, pa] = pixel((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size);
          r += pr * pa; g += pg * pa; b += pb * pa; a += pa;
        }
      }
      const n = samples * samples;
      const alpha = a / n;
      const o = 1 + x * 4;
      row[o] = alpha ? Math.round((r / a) * 255) : 0;
      row[o + 1] = alpha ? Math.round((g / a) * 255) : 0;
      row[o + 2] = alpha ? Math.round((b / a) * 255) : 0;
      row[o + 3] = Math.round(alpha * 255);
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const hex = (value) => [1, 3, 5].map((i) => parseInt(value.slice(i, i + 2), 16) / 255);
const CLEAR = [0, 0, 0, 0];
const dist = (x, y, cx, cy) => Math.hypot(x - cx, y - cy);
/** Distance from a point to the segment a–b. */
const segment = (x, y, [ax, ay], [bx, by]) => {
  const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  return dist(x, y, ax + t * (bx - ax), ay + t * (by - ay));
};
const onCheck = (x, y, width) => segment(x, y, [0.3, 0.52], [0.44, 0.66]) < width || segment(x, y, [0.44, 0.66], [0.72, 0.36]) < width;

// App icon: a green disc with a white check on a dark rounded square.
function appIcon(x, y) {
  const r = 0.2;
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  if (dist(x, y, cx, cy) > r) return CLEAR;
  if (onCheck(x, y, 0.045)) return [1, 1, 1, 1];
  if (dist(x, y, 0.5, 0.5) < 0.34) return [...hex('#22a35a'), 1];
  return [...hex('#16202b'), 1];
}

// Tray glyphs: dark ink for light menu bars, light ink for dark ones; colour only where it carries meaning.
const INK = { light: hex('#1f2328'), dark: hex('#f0f3f6') };
const TRAY = {
  idle: (x, y, ink) => (Math.abs(dist(x, y, 0.5, 0.5) - 0.36) < 0.07 || onCheck(x, y, 0.06) ? [...ink, 1] : CLEAR),
  pending: (x, y, ink) => {
    if (dist(x, y, 0.5, 0.5) < 0.42) return onCheck(x, y, 0.07) ? [1, 1, 1, 1] : [...hex('#22a35a'), 1];
    return Math.abs(dist(x, y, 0.5, 0.5) - 0.45) < 0.04 ? [...ink, 1] : CLEAR;
  },
  escalated: (x, y) => {
    if (dist(x, y, 0.5, 0.5) >= 0.46) return CLEAR;
    const bang = (Math.abs(x - 0.5) < 0.07 && y > 0.22 && y < 0.6) || dist(x, y, 0.5, 0.74) < 0.075;
    return bang ? [1, 1, 1, 1] : [...hex('#d9480f'), 1];
  },
  disconnected: (x, y, ink) => {
    const ring = Math.abs(dist(x, y, 0.5, 0.5) - 0.36) < 0.06;
    const slash = segment(x, y, [0.18, 0.82], [0.82, 0.18]) < 0.06;
    return ring || slash ? [...ink, 0.6] : CLEAR;
  },
};

const written = [];
const write = (path, bytes) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  written.push(path);
};

write(join(here, 'icon.png'), png(512, appIcon));
for (const size of [256, 512]) write(join(here, 'icons', `${size}x${size}.png`), png(size, appIcon));
for (const [state, draw] of Object.entries(TRAY)) {
  for (const theme of ['light', 'dark']) {
    write(join(here, 'tray', `${state}-${theme}.png`), png(16, (x, y) => draw(x, y, INK[theme])));
    write(join(here, 'tray', `${state}-${theme}@2x.png`), png(32, (x, y) => draw(x, y, INK[theme])));
  }
}
console.log(`wrote ${written.length} icons`);
