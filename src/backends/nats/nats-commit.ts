import type { PreparedEvent, StoredRecord } from '../../core/driver.js';

/**
 * Wire format of one commit (one JetStream message holding every event of one append):
 *
 * ```
 * {"s":<streamId>,"t":<ms>,"e":[[id,type,tags,dataLength,metadataLength],…]}\n<data0><metadata0><data1>…
 * ```
 *
 * The first line is JSON (which never contains a raw newline); the event bodies follow as the raw
 * JSON text the core serialized. Lengths count UTF-16 code units, so a reader decodes the UTF-8
 * payload once and slices strings out of it. Bodies are neither re-escaped nor re-parsed, which
 * keeps commits compact and decoding cheap.
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

type EventHead = [id: string, type: string, tags: string[], dataLength: number, metadataLength: number];

interface CommitHead {
  s: string;
  t: number;
  e: EventHead[];
}

/** Serializes a commit's events; the result does not depend on versions (those live in headers). */
export function encodeCommit(streamId: string, timestamp: number, events: PreparedEvent[]): Uint8Array {
  const heads: EventHead[] = [];
  let body = '';
  for (const event of events) {
    heads.push([event.id, event.type, event.tags, event.data.length, event.metadata.length]);
    body += event.data;
    body += event.metadata;
  }
  const head: CommitHead = { s: streamId, t: timestamp, e: heads };
  return encoder.encode(`${JSON.stringify(head)}\n${body}`);
}

/** Where a commit sits: its JetStream sequence and the stream version after it. */
export interface CommitLocation {
  seq: number;
  lastVersion: number;
}

/**
 * Decodes a commit into stored records (positions `<seq>.<index>`). Throws when the payload is not
 * a commit this backend wrote, so callers can report the commit as malformed.
 */
export function decodeCommit(payload: Uint8Array, location: CommitLocation): StoredRecord[] {
  const text = decoder.decode(payload);
  const newline = text.indexOf('\n');
  if (newline < 0) throw new TypeError('commit has no header line');
  const head = JSON.parse(text.slice(0, newline)) as CommitHead;
  if (typeof head !== 'object' || head === null || !Array.isArray(head.e) || typeof head.s !== 'string') {
    throw new TypeError('commit header is not an object with s and e');
  }
  const records: StoredRecord[] = [];
  const firstVersion = location.lastVersion - head.e.length + 1;
  let offset = newline + 1;
  for (let i = 0; i < head.e.length; i++) {
    const [id, type, tags, dataLength, metadataLength] = head.e[i]!;
    if (!Number.isSafeInteger(dataLength) || !Number.isSafeInteger(metadataLength) || !Array.isArray(tags)) {
      throw new TypeError(`commit event ${i} has a bad header`);
    }
    const dataEnd = offset + dataLength;
    const metadataEnd = dataEnd + metadataLength;
    if (metadataEnd > text.length) throw new TypeError(`commit event ${i} runs past the payload`);
    records.push({
      streamId: head.s,
      version: firstVersion + i,
      position: `${location.seq}.${i}`,
      id,
      type,
      data: text.slice(offset, dataEnd),
      metadata: text.slice(dataEnd, metadataEnd),
      tags,
      timestamp: head.t,
    });
    offset = metadataEnd;
  }
  if (offset !== text.length) throw new TypeError('commit has trailing bytes');
  return records;
}
