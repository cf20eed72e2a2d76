/** Input limits every backend enforces identically (checked before anything is written). */
export const limits = {
  /** Stream ids are 1..512 bytes of UTF-8. */
  maxStreamIdBytes: 512,
  maxEventTypeLength: 256,
  maxEventIdLength: 256,
  maxTagLength: 256,
  maxTagsPerEvent: 32,
  maxEventsPerAppend: 1_000,
  /** Serialized data + metadata of one event. */
  maxEventBytes: 1024 * 1024,
  /** Serialized events of one append (NATS stores one commit per message). */
  maxAppendBytes: 4 * 1024 * 1024,
  maxNamespaceLength: 64,
  /** Nesting of arrays and objects in data, metadata and snapshot state (deeper input would overflow the stack). */
  maxJsonDepth: 256,
  maxReadLimit: 100_000,
} as const;
