import type { RecordedEvent } from '../core/types.js';

/** One event per line: NDJSON with `--json`, else `position stream#version type data`. */
export function formatEvent(event: RecordedEvent, json: boolean): string {
  if (json) return JSON.stringify(event);
  return `${event.position}\t${event.streamId}#${event.version}\t${event.type}\t${JSON.stringify(event.data)}`;
}
