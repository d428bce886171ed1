/**
 * Reports how far a bounded source is: a bar with ETA on a TTY; otherwise a plain line each time the bytes read pass
 * another 10 % step (progress moves by whole files or splits, so a large file passes several steps at once).
 */
export class ProgressReporter {
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly tty: boolean;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly startedAt: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = out.isTTY === true;
  }

  /** `done` bytes of `total` at processing time `now`. */
  update(done: number, now: number, final = false): void {
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const elapsed = now - this.startedAt;
    const eta = frac > 0 ? (elapsed / frac) * (1 - frac) : NaN;
    if (this.tty) {
      if (!final && now - this.lastDraw < 200) return;
      this.lastDraw = now;
      const width = 30;
      const filled = Math.round(frac * width);
      const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
      this.out.write(`\r${this.label} ${bar} ${(frac * 100).toFixed(1).padStart(5)}% ${mib(done)}/${mib(this.total)} ETA ${clock(eta)}${final ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor(frac * 10);
    if (decile > this.lastDecile || final) {
      // The final call repeats nothing: a line was printed for this step already.
      if (decile === this.lastDecile && final) return;
      this.lastDecile = decile;
      this.out.write(`${this.label}: ${(frac * 100).toFixed(0)}% (${mib(done)} of ${mib(this.total)}) after ${clock(elapsed)}, ETA ${clock(eta)}\n`);
    }
  }
}

function mib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`;
}

function clock(ms: number): string {
  if (!Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
