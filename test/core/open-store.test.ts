import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/core/errors.js';
import { openStore } from '../../src/open-store.js';

describe('openStore', () => {
  it('rejects unsupported and malformed URLs with InvalidInputError', async () => {
    const bad = [
      '',
      'memory',
      'http://localhost:4700',
      'mysql://localhost/db',
      'sqlite:',
      'sqlite://',
      'postgres://host:notaport/db',
      'nats://host:notaport',
      'nats://',
      'nats://localhost:4222?replicas=abc',
      'nats://localhost:4222?replicas=0',
      'nats://localhost:4222?replicas=1.5',
    ];
    for (const url of bad) {
      const error = await openStore(url).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).field, url).toBe('url');
    }
    for (const url of [undefined, null, 42, {}]) {
      await expect(openStore(url as never)).rejects.toBeInstanceOf(InvalidInputError);
    }
  });

  it('opens an in-memory store with the default or a given namespace', async () => {
    for (const url of ['memory:', 'memory://']) {
      const store = await openStore(url);
      expect(store.namespace).toBe('default');
      await store.append('s', [{ type: 'T', data: {} }]);
      expect(await store.streamVersion('s')).toBe(1);
      await store.close();
    }
    const named = await openStore('memory:', { namespace: 'tenant-1' });
    expect(named.namespace).toBe('tenant-1');
    await named.close();
  });

  it('rejects an invalid namespace option', async () => {
    for (const namespace of ['', 'a.b', 'a b', 'x'.repeat(65)]) {
      await expect(openStore('memory:', { namespace })).rejects.toBeInstanceOf(InvalidInputError);
    }
  });
});
