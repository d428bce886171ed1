import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerWriter } from '@millrace/avro';
import { LocalFileStore, avroInput, planSplits } from '../src/index.js';

const schema = { type: 'record', name: 'R', fields: [{ name: 'id', type: 'long' }, { name: 'name', type: 'string' }] } as const;
interface R { id: number; name: string }

/** A local store that counts ranged reads: each is two HTTP requests on WebHDFS (NameNode, then DataNode). */
class CountingStore extends LocalFileStore {
  reads = 0;
  override async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    return super.readRange(path, offset, length);
  }
}

describe('avroInput split reader', () => {
  it('reads a file smaller than its window with one ranged read, whole or split at sync markers', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'millrace-split-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const fs = new CountingStore(root);
    const records: R[] = Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `name-${i % 37}` }));
    const w = new ContainerWriter<R>(schema, { codec: 'null', blockSize: 2048 });
    await fs.writeFile('/f.avro', Buffer.concat([w.header(), (w.append(records), w.end())]));

    const readSplits = async (splitBytes: number) => {
      const splits = await planSplits(fs, ['/f.avro'], [], true, splitBytes);
      const got: R[] = [];
      const reads: number[] = [];
      for (const split of splits) {
        fs.reads = 0;
        const reader = avroInput<R>().open(fs, split);
        for (let b = await reader.nextBlock(); b; b = await reader.nextBlock()) got.push(...b.records.map((r) => ({ ...r })));
        reads.push(fs.reads);
      }
      return { splits: splits.length, got, reads };
    };
    const whole = await readSplits(1 << 30);
    assert.deepEqual(whole.got, records);
    assert.deepEqual(whole.reads, [1], 'the whole file in one read');
    const split = await readSplits(8 * 1024);
    assert.ok(split.splits >= 3, `${split.splits} splits`);
    assert.deepEqual(split.got, records, 'every record once across the splits');
    assert.deepEqual(split.reads, split.reads.map(() => 1), `one read per split: ${split.reads.join(', ')}`);
  });
});
