import type { StoredRecord } from '../core/driver.js';
import { parseJson } from '../core/json.js';
import type { Json, RecordedEvent } from '../core/types.js';

/** Decodes a record a driver hands to an append hook (the core validated it moments ago). */
export function decodeRecord(record: StoredRecord): RecordedEvent {
  return {
    streamId: record.streamId,
    version: record.version,
    position: record.position,
    id: record.id,
    type: record.type,
    data: parseJson(record.data),
    metadata: parseJson(record.metadata) as Record<string, Json>,
    tags: record.tags,
    timestamp: new Date(record.timestamp),
  };
}
