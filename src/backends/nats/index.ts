export type { NatsStoreConfig } from './nats-config.js';
export {
  COUNT_HEADER,
  NatsDriver,
  openNatsStore,
  PREVIOUS_HEADER,
  VERSION_HEADER,
} from './nats-event-store.js';
export { assertReplicasSupported, MIN_CLUSTERED_SERVER_VERSION } from './nats-server-version.js';
export {
  commitSubject,
  escapeStreamId,
  MAX_SUBJECT_LENGTH,
  MAX_TOKEN_LENGTH,
  natsStreamName,
} from './nats-subjects.js';
