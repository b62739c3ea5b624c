/**
 * Random (version 4) uuids as flat strings. `crypto.randomUUID()` builds its answer by string
 * concatenation, which V8 keeps as a tree of pieces: about 490 bytes per id instead of about 60,
 * which at a million seeded workspaces is most of the simulator's heap.
 */
import { randomFillSync } from 'node:crypto';

const POOL_IDS = 1024;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;
const out = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in `8-4-4-4-12`. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
out.write('-', 8, 'latin1');
out.write('-', 13, 'latin1');
out.write('-', 18, 'latin1');
out.write('-', 23, 'latin1');

/** A new random uuid, lower-case, `8-4-4-4-12`. */
export function randomUuid(): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const base = 16 * next++;
  for (let i = 0; i < 16; i++) {
    let byte = pool[base + i] as number;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    const at = AT[i] as number;
    out[at] = HEX[byte >> 4] as number;
    out[at + 1] = HEX[byte & 0x0f] as number;
  }
  return out.toString('latin1');
}
