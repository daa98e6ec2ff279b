/**
 * An anchor and the figures compared with it, measured in alternating windows: this VM's speed
 * drifts by 10–15 % within a run (one `openssl speed` at the start and our loop minutes later
 * disagreed by that much on an idle machine), so each round runs the anchor, then every figure,
 * and the means over the rounds are compared — drift falls on both sides alike. The anchor is an
 * `openssl speed` run, or an in-process reference loop (run.ts's `interleaved`).
 */
export interface Alternated {
  /** The anchor's mean ops/s over the rounds. */
  readonly anchor: number;
  /** Each figure's mean ops/s over the rounds, in the order given. */
  readonly figures: number[];
}

export async function alternating(rounds: number, anchor: () => number | Promise<number>, figures: ReadonlyArray<() => Promise<number>>): Promise<Alternated> {
  let anchorSum = 0;
  const sums = figures.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    anchorSum += await anchor();
    for (const [i, figure] of figures.entries()) sums[i] += await figure();
  }
  return { anchor: anchorSum / rounds, figures: sums.map((s) => s / rounds) };
}
