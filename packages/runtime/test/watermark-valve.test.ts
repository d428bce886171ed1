/**
 * `WatermarkValve`: the combined watermark of an operator's input channels is the minimum over the active ones; it
 * only moves forward, ignores a channel's watermark going back, skips idle channels, moves to the largest channel watermark when the last active channel goes idle (as Flink), and
 * treats a finished channel as +infinity.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WATERMARK, MIN_WATERMARK } from '@millrace/core';
import { WatermarkValve } from '../src/index.js';

describe('WatermarkValve', () => {
  it('starts at MIN_WATERMARK with every channel active', () => {
    const v = new WatermarkValve(3);
    assert.equal(v.watermark, MIN_WATERMARK);
    assert.deepEqual(v.channelWatermarks(), [MIN_WATERMARK, MIN_WATERMARK, MIN_WATERMARK]);
    assert.deepEqual([0, 1, 2].map((c) => v.isIdle(c)), [false, false, false]);
  });

  it('a single channel passes its watermarks through', () => {
    const v = new WatermarkValve(1);
    assert.equal(v.update(0, -20), -20);
    assert.equal(v.update(0, 5), 5);
    assert.equal(v.watermark, 5);
  });

  it('is the minimum over channels: nothing until every channel has a watermark, then the smallest', () => {
    const v = new WatermarkValve(3);
    assert.equal(v.update(0, 10), undefined);
    assert.equal(v.update(2, 30), undefined);
    assert.equal(v.watermark, MIN_WATERMARK);
    assert.equal(v.update(1, 20), 10);
    assert.equal(v.update(0, 25), 20);
    assert.equal(v.update(1, 40), 25);
    assert.equal(v.update(0, 50), 30);
    assert.deepEqual(v.channelWatermarks(), [50, 40, 30]);
  });

  it('a watermark that does not raise the minimum returns undefined', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    assert.equal(v.update(1, 10), 10);
    assert.equal(v.update(1, 15), undefined, 'channel 0 still holds the minimum at 10');
    assert.equal(v.update(1, 15), undefined, 'a repeated watermark changes nothing');
    assert.equal(v.watermark, 10);
  });

  it('never goes back: a channel watermark below the last one is ignored', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 12);
    assert.equal(v.watermark, 10);
    assert.equal(v.update(0, 3), undefined);
    assert.deepEqual(v.channelWatermarks(), [10, 12]);
    assert.equal(v.watermark, 10);
    assert.equal(v.update(0, 11), 11);
  });

  it('an idle channel does not hold the minimum back', () => {
    const v = new WatermarkValve(3);
    v.update(0, 100);
    v.update(1, 5);
    v.update(2, 50);
    assert.equal(v.watermark, 5);
    assert.equal(v.markIdle(1), 50);
    assert.equal(v.isIdle(1), true);
    assert.equal(v.update(2, 70), 70);
    assert.equal(v.update(0, 120), undefined, 'channel 2 now holds the minimum');
    assert.equal(v.update(2, 200), 120);
  });

  it('marking a channel idle that is not the minimum changes nothing', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 20);
    assert.equal(v.markIdle(1), undefined);
    assert.equal(v.watermark, 10);
  });

  it('when all channels are idle the watermark holds', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 30);
    assert.equal(v.markIdle(0), 30);
    assert.equal(v.markIdle(1), undefined);
    assert.equal(v.watermark, 30);
    assert.deepEqual([v.isIdle(0), v.isIdle(1)], [true, true]);
  });

  it('when the last active channel goes idle, the watermark moves to the largest any channel reached (Flink StatusWatermarkValve)', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 30);
    assert.equal(v.markIdle(1), undefined, 'channel 0 still holds it at 10');
    assert.equal(v.markIdle(0), 30);
    assert.equal(v.watermark, 30);
  });

  it('when all channels are idle from the start nothing is emitted', () => {
    const v = new WatermarkValve(2);
    assert.equal(v.markIdle(0), undefined);
    assert.equal(v.markIdle(1), undefined);
    assert.equal(v.watermark, MIN_WATERMARK);
  });

  it('a watermark on an idle channel makes it active and counted again', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 10);
    v.markIdle(1);
    assert.equal(v.update(0, 40), 40);
    assert.equal(v.update(1, 60), undefined, 'channel 1 is active again; channel 0 (40) is the minimum');
    assert.equal(v.isIdle(1), false);
    assert.equal(v.update(0, 80), 60);
  });

  it('a record on an idle channel (markActive) makes its last watermark count again; the output does not go back', () => {
    // Differs from Flink's StatusWatermarkValve, which leaves a re-activated channel out of the minimum until its
    // watermark catches up with the output: here it holds the output until then.
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 10);
    v.markIdle(1);
    assert.equal(v.update(0, 50), 50);
    v.markActive(1);
    assert.equal(v.isIdle(1), false);
    assert.equal(v.update(0, 70), undefined, 'channel 1 (10) is active again and behind');
    assert.equal(v.watermark, 50);
    assert.equal(v.update(1, 40), undefined, 'still behind the output');
    assert.equal(v.update(1, 60), 60);
  });

  it('a finished channel counts as MAX_WATERMARK', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.update(1, 5);
    assert.equal(v.finish(1), 10);
    assert.equal(v.channelWatermarks()[1], MAX_WATERMARK);
    assert.equal(v.update(0, 99), 99);
    assert.equal(v.finish(0), MAX_WATERMARK);
    assert.equal(v.watermark, MAX_WATERMARK);
  });

  it('finishing an idle channel counts it as MAX_WATERMARK, not as idle', () => {
    const v = new WatermarkValve(2);
    v.update(0, 10);
    v.markIdle(0);
    assert.equal(v.finish(0), undefined, 'channel 1 has no watermark yet');
    assert.equal(v.isIdle(0), false);
    assert.equal(v.update(1, 7), 7);
    assert.equal(v.finish(1), MAX_WATERMARK);
  });

  it('after every channel finished, nothing moves it back', () => {
    const v = new WatermarkValve(2);
    v.finish(0);
    assert.equal(v.finish(1), MAX_WATERMARK);
    assert.equal(v.update(0, 5), undefined);
    assert.equal(v.markIdle(1), undefined);
    assert.equal(v.watermark, MAX_WATERMARK);
  });
});
