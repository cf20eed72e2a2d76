// Appends through the store's SQL function inside explicit transactions that sleep before and
// after the append and sometimes roll back, so commits land out of transaction-id order.
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const { connectionString, schema, namespace, writer, transactions } = JSON.parse(process.argv[2]!) as {
  connectionString: string;
  schema: string;
  namespace: string;
  writer: number;
  transactions: number;
};
const client = new pg.Client({ connectionString });
await client.connect();
const committed: string[] = [];
let rolledBack = 0;
const sleep = () => client.query('SELECT pg_sleep($1)', [Math.random() * 0.02]);
for (let t = 0; t < transactions; t++) {
  const size = 1 + Math.floor(Math.random() * 3);
  const ids = Array.from({ length: size }, () => randomUUID());
  await client.query('BEGIN');
  await sleep();
  await client.query(
    `SELECT * FROM "${schema}".append_events($1, $2, -1, $3, $4, $5, $6, $7, $8, '{}', now(), NULL, '0', -1)`,
    [
      namespace,
      `writer-${writer}`,
      ids,
      ids.map(() => true),
      ids.map(() => 'Gap'),
      ids.map((id) => JSON.stringify({ writer, id })),
      ids.map(() => '{}'),
      ids.map(() => 0),
    ],
  );
  // The transaction id is taken by the append; sleeping now commits it after later ones.
  await sleep();
  if (Math.random() < 0.05) {
    await client.query('ROLLBACK');
    rolledBack++;
  } else {
    await client.query('COMMIT');
    committed.push(...ids);
  }
}
await client.end();
console.log(JSON.stringify({ committed, rolledBack }));
