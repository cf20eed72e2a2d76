// Registers usernames with a condition (no other registration of the same name may exist);
// several copies of this process race on the same names.
import { randomUUID } from 'node:crypto';
import { isAppendConditionFailure } from '../../../src/core/errors.js';
import { openStore } from '../../../src/open-store.js';

const { url, namespace, names, withAfter } = JSON.parse(process.argv[2]!) as {
  url: string;
  namespace: string;
  names: string[];
  withAfter: boolean;
};
const store = await openStore(url, { namespace });
let registered = 0;
let rejected = 0;
for (const name of names) {
  const query = { types: ['UserRegistered'], tags: [`username:${name}`] };
  // With `after`, the decision is taken on a read of the log, as a command handler would.
  const after = withAfter ? await store.headPosition() : undefined;
  if (withAfter) {
    const existing = await store.readAll({ filter: query, limit: 1 });
    if (existing.length > 0) {
      rejected++;
      continue;
    }
  }
  try {
    await store.append(
      `user-${randomUUID()}`,
      [{ type: 'UserRegistered', data: { name, by: process.pid }, tags: [`username:${name}`] }],
      {
        condition: { failIfEventsMatch: query, ...(after ? { after } : {}) },
      },
    );
    registered++;
  } catch (error) {
    if (!isAppendConditionFailure(error)) throw error;
    rejected++;
  }
}
await store.close();
console.log(JSON.stringify({ registered, rejected }));
