import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressReporter } from '../src/progress.js';

/**
 * A terminal as far as a progress bar uses one: `\r` moves to the start of the line, `\x1b[K` erases to its end,
 * `\n` starts a new line, other characters overwrite what is under the cursor, and a line longer than the width
 * wraps. `screen` is what a person sees.
 */
class FakeTerminal {
  readonly isTTY = true;
  readonly writes: string[] = [];
  private lines: string[] = [''];
  private col = 0;
  constructor(readonly columns: number) {}
  write(s: string): boolean {
    this.writes.push(s);
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (s.startsWith('\x1b[K', i)) { this.cur = this.cur.slice(0, this.col); i += 2; continue; }
      if (ch === '\r') { this.col = 0; continue; }
      if (ch === '\n') { this.lines.push(''); this.col = 0; continue; }
      if (this.col >= this.columns) { this.lines.push(''); this.col = 0; }
      this.cur = this.cur.slice(0, this.col).padEnd(this.col) + ch + this.cur.slice(this.col + 1);
      this.col++;
    }
    return true;
  }
  private get cur(): string { return this.lines[this.lines.length - 1]!; }
  private set cur(v: string) { this.lines[this.lines.length - 1] = v; }
  get screen(): string[] { return [...this.lines]; }
}

const MiB = 1 << 20;
const tty = (columns: number) => new FakeTerminal(columns);
const reporter = (term: FakeTerminal, label = 'history', total = 10 * MiB) => new ProgressReporter(label, total, 0, term as unknown as NodeJS.WriteStream);

describe('progress on a terminal', () => {
  it('draws a bar with percentage, bytes and ETA in place, and ends with the time taken', () => {
    const term = tty(100);
    const p = reporter(term);
    p.update(0, 0);
    assert.deepEqual(term.screen, [`history ${'░'.repeat(30)}   0.0% 0 KiB/10.0 MiB ETA --:--`]);
    p.update(2.5 * MiB, 10_000); // a quarter in 10 s: 30 s to go
    assert.deepEqual(term.screen, [`history ${'█'.repeat(8)}${'░'.repeat(22)}  25.0% 2.5 MiB/10.0 MiB ETA 0:30`]);
    p.update(5 * MiB, 10_100); // within 200 ms of the last draw: not redrawn
    assert.equal(term.writes.length, 2);
    p.update(5 * MiB, 20_000);
    assert.deepEqual(term.screen, [`history ${'█'.repeat(15)}${'░'.repeat(15)}  50.0% 5.0 MiB/10.0 MiB ETA 0:20`]);
    p.update(10 * MiB, 95_000, true); // the last line is drawn at once and ends the line
    assert.deepEqual(term.screen, [`history ${'█'.repeat(30)} 100.0% 10.0 MiB/10.0 MiB done in 1:35`, '']);
    assert.ok(term.writes.every((w) => w.startsWith('\r')), 'every draw starts at the beginning of the line');
  });

  it('a shorter line leaves nothing of the longer one before it', () => {
    const term = tty(100);
    const p = reporter(term, 'src', 2 * MiB);
    p.update(1023 * 1024, 600_000); // ETA 10:01, "1023 KiB"
    const long = term.screen[0]!;
    assert.match(long, /1023 KiB\/2\.0 MiB ETA 10:01$/);
    p.update(2 * MiB - 1024, 601_000); // "2.0 MiB", ETA 0:00
    assert.ok(term.screen[0]!.length < long.length);
    assert.match(term.screen[0]!, /^src █+░* 100\.0% 2\.0 MiB\/2\.0 MiB ETA 0:00$/);
  });

  it('stays within a narrow terminal: the bar shrinks, then goes', () => {
    for (const columns of [60, 50, 30]) {
      const term = tty(columns);
      const p = reporter(term, 'readings#3');
      for (let i = 1; i <= 10; i++) p.update(i * MiB, i * 1_000, i === 10);
      const screen = term.screen;
      assert.equal(screen.length, 2, `${columns} columns: one line, never wrapped: ${JSON.stringify(screen)}`);
      assert.ok(screen[0]!.length < columns, `${columns} columns: ${screen[0]}`);
      assert.match(screen[0]!, columns >= 60 ? /^readings#3 █+ 100\.0% 10\.0 MiB\/10\.0 MiB done in 0:10$/ : /^readings#3 100\.0% 10\.0 MiB/);
    }
  });
});
