import { MAX_WATERMARK, MIN_WATERMARK } from '@millrace/core';

/**
 * Combines the watermarks of an operator's input channels into one: the minimum over the channels that are active.
 *
 * - A channel's watermark never goes back: a smaller value than the last one seen is ignored.
 * - An idle channel (its source said so) does not hold the minimum back; when it sends a record or a watermark again
 *   it becomes active, and its watermark counts again from then on (records it sends meanwhile may be late).
 * - When the last active channel goes idle, the combined watermark moves to the maximum over all channels (as Flink's
 *   `StatusWatermarkValve` does): nothing holds it back any more.
 * - A finished channel counts as `MAX_WATERMARK`.
 * - The output only moves forward: `update`/`markIdle` return the new combined watermark, or `undefined` when it did not
 *   advance.
 */
export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private current = MIN_WATERMARK;

  constructor(readonly channels: number) {
    this.watermarks = new Array<number>(channels).fill(MIN_WATERMARK);
    this.idle = new Array<boolean>(channels).fill(false);
  }

  /** The combined watermark emitted so far. */
  get watermark(): number {
    return this.current;
  }

  /** The last watermark seen on each channel, for diagnostics ("why has this window not fired?"). */
  channelWatermarks(): readonly number[] {
    return this.watermarks;
  }

  /** Is the channel idle? */
  isIdle(channel: number): boolean {
    return this.idle[channel]!;
  }

  /** A watermark arrived on `channel`. */
  update(channel: number, watermark: number): number | undefined {
    this.idle[channel] = false;
    if (watermark > this.watermarks[channel]!) this.watermarks[channel] = watermark;
    return this.advance();
  }

  /** A record arrived on `channel`: an idle channel becomes active again. */
  markActive(channel: number): void {
    this.idle[channel] = false;
  }

  /** The channel's source has been idle for its idleness timeout. */
  markIdle(channel: number): number | undefined {
    this.idle[channel] = true;
    return this.advance();
  }

  /** The channel ended: it no longer holds anything back. */
  finish(channel: number): number | undefined {
    return this.update(channel, MAX_WATERMARK);
  }

  private advance(): number | undefined {
    let min = MAX_WATERMARK;
    let anyActive = false;
    for (let i = 0; i < this.channels; i++) {
      if (this.idle[i]) continue;
      anyActive = true;
      if (this.watermarks[i]! < min) min = this.watermarks[i]!;
    }
    if (!anyActive) {
      // All idle: take the largest watermark any channel reached.
      let max = this.current;
      for (let i = 0; i < this.channels; i++) if (this.watermarks[i]! > max) max = this.watermarks[i]!;
      if (max <= this.current) return undefined;
      this.current = max;
      return max;
    }
    if (min <= this.current) return undefined;
    this.current = min;
    return min;
  }
}
