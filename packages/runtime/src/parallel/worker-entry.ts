/** The module piscina's workers load: each task is one worker's long-lived part of a parallel job. */
import { runSlot } from './worker-host.js';
import type { SlotTask } from './protocol.js';

export default function run(task: SlotTask): Promise<void> {
  return runSlot(task);
}
