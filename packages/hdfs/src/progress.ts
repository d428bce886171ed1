/**
 * Reports how far a bounded source is: on a TTY, a bar with percentage, bytes and ETA redrawn in place (at most every
 * 200 ms, within the terminal's width) and a last line with the time taken; otherwise a plain line each time the
 * bytes read pass another 10 % step (progress moves by whole files or splits, so a large file passes several steps
 * at once).
 */
export class ProgressReporter {
  private lastDraw = -Infinity;
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
      const text = `${(frac * 100).toFixed(1).padStart(5)}% ${mib(done)}/${mib(this.total)} ${final ? `done in ${clock(elapsed)}` : `ETA ${clock(eta)}`}`;
      // The bar shrinks to keep the line within the terminal's width: a wrapped line would not be redrawn in place.
      const columns = this.out.columns > 0 ? this.out.columns : 80;
      const width = Math.max(0, Math.min(30, columns - 1 - this.label.length - text.length - 2));
      const filled = Math.round(frac * width);
      const bar = width >= 5 ? ` ${'█'.repeat(filled)}${'░'.repeat(width - filled)}` : '';
      const line = `${this.label}${bar} ${text}`.slice(0, columns - 1);
      // Back to the start of the line, then erase what a longer previous line left after it.
      this.out.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
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
