import { InvalidInputError } from '../../core/errors.js';

/**
 * Subject layout of one namespace's JetStream stream `<prefix>_<namespace>`:
 *
 * - `<stream>.e.<encoded id>`: the commits of one event stream (all commits: `<stream>.e.>`);
 * - `<stream>.x.<uuid>`: leading parts of a commit larger than one message (never scanned by readers);
 * - `<stream>.n`: core NATS append notices (outside the stream's subjects, so never stored).
 *
 * The encoded id keeps the bytes `[A-Za-z0-9-]` of the UTF-8 id and writes every other byte as
 * `_XX` (upper-case hex). The code is prefix-free, hence injective: two distinct ids never share a
 * subject, and `.`, `*`, `>`, spaces or `_` inside ids can never act as subject syntax. The encoded
 * text is cut into tokens of at most {@link MAX_TOKEN_LENGTH} characters (cut at fixed offsets, so
 * the concatenation of the tokens is the encoding again). A 512-byte id needs at most 1536
 * characters, so every id the core accepts fits: subjects stay below {@link MAX_SUBJECT_LENGTH}.
 */
export const MAX_TOKEN_LENGTH = 255;

/** Upper bound on subjects this backend produces; well below the server's 4096-byte protocol line. */
export const MAX_SUBJECT_LENGTH = 2_048;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const SAFE_ID = /^[A-Za-z0-9-]+$/;
const HEX = Array.from({ length: 256 }, (_, b) => `_${b.toString(16).toUpperCase().padStart(2, '0')}`);
const SAFE_BYTE = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  const c = String.fromCharCode(b);
  SAFE_BYTE[b] = /[A-Za-z0-9-]/.test(c) ? 1 : 0;
}

/** The JetStream stream name of a namespace. */
export function natsStreamName(prefix: string, namespace: string): string {
  return `${prefix}_${namespace}`;
}

/** The escaped form of a stream id (without token cuts). */
export function escapeStreamId(streamId: string): string {
  if (SAFE_ID.test(streamId)) return streamId;
  let out = '';
  for (const byte of encoder.encode(streamId)) out += SAFE_BYTE[byte] ? String.fromCharCode(byte) : HEX[byte];
  return out;
}

/** Inverse of {@link escapeStreamId}; throws on text it could not have produced. */
export function unescapeStreamId(escaped: string): string {
  if (SAFE_ID.test(escaped)) return escaped;
  const bytes: number[] = [];
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c === 0x5f) {
      const hex = escaped.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new TypeError(`bad escape at ${i} in ${escaped}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c < 256 && SAFE_BYTE[c]) {
      bytes.push(c);
    } else {
      throw new TypeError(`unexpected character at ${i} in ${escaped}`);
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}

/** The escaped id cut into subject tokens of at most {@link MAX_TOKEN_LENGTH} characters, joined with dots. */
export function encodeStreamIdTokens(streamId: string): string {
  const escaped = escapeStreamId(streamId);
  if (escaped.length <= MAX_TOKEN_LENGTH) return escaped;
  const tokens: string[] = [];
  for (let i = 0; i < escaped.length; i += MAX_TOKEN_LENGTH)
    tokens.push(escaped.slice(i, i + MAX_TOKEN_LENGTH));
  return tokens.join('.');
}

/** The wildcard subject covering every commit of a namespace's stream. */
export function allCommitsSubject(streamName: string): string {
  return `${streamName}.e.>`;
}

/** The core NATS subject on which appends to a namespace are announced (not stored by JetStream). */
export function appendNoticeSubject(streamName: string): string {
  return `${streamName}.n`;
}

/** The wildcard subject covering the leading parts of large commits. */
export function allPartsSubject(streamName: string): string {
  return `${streamName}.x.>`;
}

/** The subject of the leading parts of one large commit. */
export function partSubject(streamName: string, token: string): string {
  return `${streamName}.x.${token}`;
}

/**
 * The subject of one event stream's commits. Throws `InvalidInputError` if it would exceed
 * {@link MAX_SUBJECT_LENGTH} (cannot happen for ids the core accepts with a valid prefix and namespace).
 */
export function commitSubject(streamName: string, streamId: string): string {
  const subject = `${streamName}.e.${encodeStreamIdTokens(streamId)}`;
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidInputError(
      'streamId',
      `encodes to a ${subject.length}-character subject; at most ${MAX_SUBJECT_LENGTH} allowed`,
    );
  }
  return subject;
}

/** The stream id a commit subject belongs to (inverse of {@link commitSubject}). */
export function streamIdOfSubject(streamName: string, subject: string): string {
  const prefix = `${streamName}.e.`;
  if (!subject.startsWith(prefix))
    throw new TypeError(`subject ${subject} is not a commit subject of ${streamName}`);
  return unescapeStreamId(subject.slice(prefix.length).replaceAll('.', ''));
}

/** The KV key of a stream's snapshot (KV keys allow dots between non-empty tokens, like subjects). */
export function snapshotKey(streamId: string): string {
  return encodeStreamIdTokens(streamId);
}
