/** Card transactions and a deterministic generator of them (the demo's built-in source). */

export interface Txn {
  readonly card: string;
  readonly amount: number;
  /** Event time, epoch ms. */
  readonly ts: number;
  readonly merchant: string;
}

/** Small deterministic hash of an integer to [0, 1). */
function unit(i: number, salt: number): number {
  let h = Math.imul(i ^ salt, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}

/** Start of the generated day: 2026-11-25T00:00:00Z. */
export const START_TS = Date.UTC(2026, 10, 25);

/**
 * The i-th generated transaction: one every 10 ms of event time on average, up to 2 s out of order, over `cards`
 * cards; most amounts between 5 and 500, some small (< 100) ones followed now and then by a large one (> 50 000).
 */
export function transaction(i: number, cards = 20): Txn {
  const card = `card-${String(Math.floor(unit(i, 1) * cards)).padStart(3, '0')}`;
  const r = unit(i, 2);
  const amount = r < 0.004 ? 50_001 + Math.floor(unit(i, 3) * 40_000) : r < 0.2 ? 1 + Math.floor(unit(i, 4) * 99) : 5 + Math.floor(unit(i, 5) * 495);
  const ts = START_TS + i * 10 - Math.floor(unit(i, 6) * 2_000);
  return { card, amount, ts, merchant: `m-${Math.floor(unit(i, 7) * 50)}` };
}
