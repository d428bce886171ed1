import type { RecordBatch } from '../record-batch.js';

/**
 * What travels on a channel between two subtasks, in order: record batches, and in-band with them watermarks,
 * checkpoint barriers, idleness and end of input. The in-thread executor calls the receiver directly; the worker
 * runtime carries the same messages across threads.
 */
export type ChannelMessage =
  | { readonly kind: 'batch'; readonly batch: RecordBatch }
  | { readonly kind: 'watermark'; readonly watermark: number }
  | { readonly kind: 'idle' }
  | { readonly kind: 'barrier'; readonly checkpointId: number }
  | { readonly kind: 'end' };

/** Receives the messages of its input channels. */
export interface ChannelReceiver {
  receive(channel: number, message: ChannelMessage): void;
}
