/** Planted hang for `run.js --selftest`: the watchdog must end it and keep the input. */
export const maxLen = 16;

export function fuzz(data: Buffer): void {
  if (data.length > 0 && data[0] === 0x48) {
    for (;;) { /* hang */ }
  }
}
