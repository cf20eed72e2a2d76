/**
 * Test worker: opens a SQLite store (migrating the file if needed), optionally appends `count`
 * single-event appends to `streamId`, prints `done <schemaVersion>` and exits.
 * argv: path namespace streamId count
 */
import { openSqliteStore, sqliteDriverOf } from '../../src/backends/sqlite/index.js';
import { schemaVersion } from '../../src/backends/sqlite/sqlite-schema.js';

const [path, namespace, streamId, countArg] = process.argv.slice(2);
const store = await openSqliteStore({ path: path!, namespace: namespace! });
for (let i = 0; i < Number(countArg); i++)
  await store.append(streamId!, [{ type: 'FromChild', data: { i } }]);
const version = schemaVersion(sqliteDriverOf(store)!.database);
await store.close();
process.stdout.write(`done ${version}\n`);
