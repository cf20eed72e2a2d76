import { describe, expect, it } from 'vitest';
import { createInMemoryStore, createStoreLease, InvalidInputError } from '../../src/index.js';

describe('store lease', () => {
  it('lets one contender hold it until it expires, then hands over with a higher fencing token', async () => {
    const store = createInMemoryStore();
    let now = 1_000;
    const a = createStoreLease({ store, name: 'jobs', owner: 'a', ttlMs: 100, now: () => now });
    const b = createStoreLease({ store, name: 'jobs', owner: 'b', ttlMs: 100, now: () => now });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    const tokenA = a.token!;
    expect(tokenA).toBeGreaterThan(0);
    now += 60; // past half the ttl: a renews and keeps its token
    expect(await a.acquire()).toBe(true);
    expect(a.token).toBe(tokenA);
    now += 90; // still within the renewal
    expect(await b.acquire()).toBe(false);
    now += 200; // a stopped renewing
    expect(a.isHeld()).toBe(false);
    expect(await b.acquire()).toBe(true);
    expect(b.token!).toBeGreaterThan(tokenA);
    expect(await a.acquire()).toBe(false);
    expect(a.token).toBeUndefined();
  });

  it('gives only one winner when contenders race for a free lease', async () => {
    const store = createInMemoryStore();
    const leases = Array.from({ length: 6 }, (_, i) =>
      createStoreLease({ store, name: 'race', owner: `o${i}` }),
    );
    const won = await Promise.all(leases.map((l) => l.acquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('release lets another contender take it at once', async () => {
    const store = createInMemoryStore();
    const a = createStoreLease({ store, name: 'r', owner: 'a' });
    const b = createStoreLease({ store, name: 'r', owner: 'b' });
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);
    await a.release();
    expect(a.isHeld()).toBe(false);
    expect(await b.acquire()).toBe(true);
  });

  it('rejects bad configuration', () => {
    const store = createInMemoryStore();
    expect(() => createStoreLease({ store, name: '' })).toThrow(InvalidInputError);
    expect(() => createStoreLease({ store, name: 'x', ttlMs: 0 })).toThrow(InvalidInputError);
  });
});
