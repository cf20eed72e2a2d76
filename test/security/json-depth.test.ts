import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { limits } from '../../src/core/limits.js';
import { createInMemoryStore } from '../../src/index.js';

/**
 * Deeply nested data must be refused with a typed error through the library API too: the JSON check
 * used to recurse without bound, so 100 000 nested arrays crashed an append with a stack overflow
 * (`RangeError`), which the HTTP server answered with a 500.
 */

const nest = (depth: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};

describe('JSON nesting limit', () => {
  it(`accepts ${limits.maxJsonDepth} levels and refuses one more with InvalidInputError, writing nothing`, async () => {
    const store = createInMemoryStore();
    try {
      await store.append('ok', [{ type: 'Deep', data: nest(limits.maxJsonDepth) as never }]);
      const [stored] = await store.readStream('ok');
      expect(stored!.data).toEqual(nest(limits.maxJsonDepth));
      for (const depth of [limits.maxJsonDepth + 1, 100_000]) {
        await expect(
          store.append('deep', [{ type: 'Deep', data: nest(depth) as never }]),
        ).rejects.toBeInstanceOf(InvalidInputError);
        await expect(
          store.append('deep', [{ type: 'Deep', data: {}, metadata: { m: nest(depth) as never } }]),
        ).rejects.toBeInstanceOf(InvalidInputError);
      }
      expect(await store.streamVersion('deep')).toBe(0);
      expect(await store.headPosition()).toBe((await store.readStream('ok'))[0]!.position);
    } finally {
      await store.close();
    }
  });
});
