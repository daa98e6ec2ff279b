/** Planted bug for `run.js --selftest`: reachable only by following coverage byte by byte. */
export const maxLen = 64;

export function fuzz(data: Buffer): void {
  if (data.length >= 4 && data[0] === 0x46) {
    if (data[1] === 0x55) {
      if (data[2] === 0x5a) {
        if (data[3] === 0x5a) throw new TypeError('planted bug reached');
      }
    }
  }
}
