// Registers the usernames user-0 … user-<count-1>, in order, through withLockOn, racing the other
// registrar processes that try the same names at the same moment; prints what it won.
import { setTimeout as delay } from 'node:timers/promises';
import { openStore } from '../../../src/index.js';
import { defineProjection, LockAbortedError, withLockOn } from '../../../src/projections/index.js';

const [url, namespace, worker, countText, startAtText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const count = Number(countText);

const usernames = defineProjection<Record<string, string>>({
  name: 'usernames',
  version: 1,
  init: () => ({}),
  handlers: {
    UserRegistered: (taken, event) => {
      const { name, userId } = event.data as { name: string; userId: string };
      return { ...taken, [name]: userId };
    },
  },
});

const store = await openStore(url, { namespace });
// Start together so that the attempts really overlap.
await delay(Math.max(0, Number(startAtText) - Date.now()));
let won = 0;
let aborted = 0;
let attempts = 0;
for (let i = 0; i < count; i++) {
  const name = `user-${i}`;
  const userId = `${worker}-${i}`;
  try {
    await withLockOn(store, usernames)
      .retries(100)
      .intervalMillis(1)
      .attempt(
        async (taken, tx) => {
          attempts += 1;
          if (taken[name]) tx.abort(`${name} is taken`);
          // The decision takes a moment (as real checks do): a window for the others to interfere.
          await delay(Math.floor(Math.random() * 3));
          tx.publish(`user/${userId}`, { type: 'UserRegistered', data: { name, userId } });
        },
        () => {
          won += 1;
        },
      );
  } catch (error) {
    if (error instanceof LockAbortedError) aborted += 1;
    else throw error;
  }
}
console.log(JSON.stringify({ worker, won, aborted, attempts }));
await store.close();
