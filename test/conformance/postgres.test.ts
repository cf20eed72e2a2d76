import { afterAll } from 'vitest';
import { openPostgresStore, type PostgresDriver } from '../../src/backends/postgres/index.js';
import { driverOf } from '../../src/core/driver-event-store.js';
import { runEventStoreConformance } from '../../src/testing/index.js';
import { dropSchema, randomSchema, schemaUrl } from '../postgres/postgres-test-schema.js';
import { describeWithService, postgresUrl } from '../support/services.js';

const schema = randomSchema('ordo_conf');

describeWithService('postgres', 'postgres backend', () => {
  afterAll(() => dropSchema(schema));
  runEventStoreConformance({
    name: 'postgres',
    create: () => openPostgresStore({ connectionString: postgresUrl, schema }),
    url: schemaUrl(schema),
    corrupt: async (store, streamId, version) => {
      await (driverOf(store) as PostgresDriver).corrupt(streamId, version);
    },
  });
});
