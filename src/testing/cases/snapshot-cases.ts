import { expect } from 'vitest';
import { type ConformanceContext, randomStreamId } from '../conformance-context.js';

/** Snapshots: none is `null`, the latest save wins, the schema tag is kept, streams are separate. */
export function snapshotCases(ctx: ConformanceContext): void {
  ctx.test('loadSnapshot is null when none was saved', async () => {
    const store = ctx.fresh();
    expect(await store.loadSnapshot(randomStreamId())).toBeNull();
  });

  ctx.test('the latest snapshot wins and keeps its schema', async () => {
    const store = ctx.fresh();
    const id = randomStreamId();
    const state1 = { count: 1, items: ['a'], nested: { ok: true, text: 'é🎉' } };
    await store.saveSnapshot(id, { version: 1, state: state1, schema: 'counter-v1' });
    const first = await store.loadSnapshot(id);
    expect(first).toMatchObject({ streamId: id, version: 1, state: state1, schema: 'counter-v1' });
    expect(first!.timestamp).toBeInstanceOf(Date);
    expect(Number.isNaN(first!.timestamp.getTime())).toBe(false);

    await store.saveSnapshot(id, { version: 5, state: { count: 5 }, schema: 'counter-v2' });
    expect(await store.loadSnapshot(id)).toMatchObject({
      streamId: id,
      version: 5,
      state: { count: 5 },
      schema: 'counter-v2',
    });

    await store.saveSnapshot(id, { version: 9, state: [1, 2, 3] });
    const latest = await store.loadSnapshot(id);
    expect(latest).toMatchObject({ version: 9, state: [1, 2, 3] });
    expect(typeof latest!.schema).toBe('string');
    expect(latest!.schema).not.toBe('counter-v2');
  });

  ctx.test('snapshots belong to one stream and do not touch its events', async () => {
    const store = ctx.fresh();
    const a = randomStreamId('a');
    const b = randomStreamId('b');
    await store.saveSnapshot(a, { version: 3, state: { stream: 'a' }, schema: 's' });
    await store.saveSnapshot(b, { version: 7, state: null, schema: 's' });
    expect(await store.loadSnapshot(a)).toMatchObject({ version: 3, state: { stream: 'a' } });
    expect(await store.loadSnapshot(b)).toMatchObject({ version: 7, state: null });
    expect(await store.streamVersion(a)).toBe(0);
    expect(await store.readAll()).toEqual([]);
  });
}
