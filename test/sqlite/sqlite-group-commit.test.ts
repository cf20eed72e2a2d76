import { describe, expect, it } from 'vitest';
import { openSqliteStore, sqliteDriverOf } from '../../src/backends/sqlite/index.js';
import { InvalidInputError, VersionConflictError } from '../../src/core/errors.js';
import type { AppendResult } from '../../src/core/types.js';

describe('sqlite group commit of concurrent appends', () => {
  it('commits concurrent appends together while each one is checked and applied on its own', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    await store.append('taken', [{ type: 'A', data: {} }]);
    await store.append('ids', [{ type: 'A', data: {}, id: 'first' }]);
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) =>
        store.append(`s${i}`, [
          { type: 'A', data: { i } },
          { type: 'B', data: { i } },
        ]),
      ),
      store.append('taken', [{ type: 'Late', data: {} }], { expectedVersion: 'no_stream' }),
      store.append('ids', [
        { type: 'New', data: {}, id: 'second' },
        { type: 'Again', data: {}, id: 'first' },
      ]),
      store.append('shared', [{ type: 'X', data: 1 }], { expectedVersion: 0 }),
      store.append('shared', [{ type: 'X', data: 2 }], { expectedVersion: 0 }),
    ]);
    expect(outcomes.slice(0, 10).every((o) => o.status === 'fulfilled')).toBe(true);
    const ok = outcomes.slice(0, 10).map((o) => (o as PromiseFulfilledResult<AppendResult>).value);
    expect(ok.map((r) => [r.firstVersion, r.lastVersion])).toEqual(Array(10).fill([1, 2]));
    // Positions follow the order in which the appends were issued.
    const positions = ok.map((r) => Number(r.position));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect((outcomes[10] as PromiseRejectedResult).reason).toBeInstanceOf(VersionConflictError);
    // One of the ids is already stored by another append: a typed error, and nothing is written.
    expect((outcomes[11] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidInputError);
    // Two appends expecting the same version in one group: exactly one wins.
    expect(outcomes[12]!.status).toBe('fulfilled');
    expect((outcomes[13] as PromiseRejectedResult).reason).toMatchObject({
      code: 'VERSION_CONFLICT',
      currentVersion: 1,
    });
    expect(await store.streamVersion('taken')).toBe(1);
    expect((await store.readStream('ids')).map((e) => e.type)).toEqual(['A']);
    expect((await store.readStream('shared')).map((e) => e.data)).toEqual([1]);
    expect(await store.readAll()).toHaveLength(2 + 20 + 1);
    await store.close();
  });

  it('rolls back only the append whose inline hook fails', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const driver = sqliteDriverOf(store)!;
    driver.addAppendHook(({ append }) => {
      if (append.streamId === 'bad') throw new Error('projection failed');
    });
    const outcomes = await Promise.allSettled([
      store.append('good-1', [{ type: 'A', data: {} }]),
      store.append('bad', [{ type: 'A', data: {} }]),
      store.append('good-2', [{ type: 'A', data: {} }]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.streamVersion('bad')).toBe(0);
    expect((await store.readAll()).map((e) => e.streamId)).toEqual(['good-1', 'good-2']);
    await store.close();
  });

  it('settles appends issued right before close instead of dropping them', async () => {
    const store = await openSqliteStore({ path: ':memory:' });
    const pending = store.append('s', [{ type: 'A', data: {} }]);
    await store.close();
    await expect(pending).resolves.toMatchObject({ lastVersion: 1 });
  });
});
