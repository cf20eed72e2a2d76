import { InvalidInputError, OrdoError } from '../core/errors.js';
import { parseJson, serializeJson } from '../core/json.js';
import type { Json } from '../core/types.js';
import type { DocumentEntry, Documents } from './define-projection.js';

const ID_MAX = 512;

/** Throws `InvalidInputError` unless `id` is a usable document id. */
export function assertDocumentId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > ID_MAX) {
    throw new InvalidInputError('document id', `must be a string of 1..${ID_MAX} characters`);
  }
}

/**
 * The documents a batch of events changes: reads fall through to storage, writes are buffered
 * (as validated JSON text) until the runner commits them with the checkpoint.
 */
export class DocumentBatch<D extends Json = Json> implements Documents<D> {
  readonly pending = new Map<string, string | null>();
  /** Previous buffered values since `begin()`, so one failed event's writes can be undone. */
  readonly #undo: Array<[string, string | null | undefined]> = [];

  constructor(
    private readonly read: (id: string) => Promise<string | undefined>,
    private readonly list: (options: {
      after?: string;
      limit: number;
    }) => Promise<Array<{ id: string; doc: string }>>,
    private readonly readSync?: (id: string) => string | undefined,
  ) {}

  /** Starts the writes of one event. */
  begin(): void {
    this.#undo.length = 0;
  }

  /** Undoes the writes made since `begin()`. */
  rollback(): void {
    for (let i = this.#undo.length - 1; i >= 0; i--) {
      const [id, previous] = this.#undo[i]!;
      if (previous === undefined) this.pending.delete(id);
      else this.pending.set(id, previous);
    }
    this.#undo.length = 0;
  }

  async get(id: string): Promise<D | undefined> {
    assertDocumentId(id);
    const buffered = this.pending.get(id);
    if (buffered !== undefined) return buffered === null ? undefined : (parseJson(buffered) as D);
    const stored = await this.read(id);
    return stored === undefined ? undefined : (parseJson(stored) as D);
  }

  getSync(id: string): D | undefined {
    assertDocumentId(id);
    const buffered = this.pending.get(id);
    if (buffered !== undefined) return buffered === null ? undefined : (parseJson(buffered) as D);
    if (!this.readSync) {
      throw new OrdoError(
        'SYNC_READ_UNSUPPORTED',
        'this store reads documents asynchronously: use await docs.get(id)',
      );
    }
    const stored = this.readSync(id);
    return stored === undefined ? undefined : (parseJson(stored) as D);
  }

  put(id: string, doc: D): void {
    assertDocumentId(id);
    const text = serializeJson(doc, `document ${id}`);
    this.#undo.push([id, this.pending.get(id)]);
    this.pending.set(id, text);
  }

  delete(id: string): void {
    assertDocumentId(id);
    this.#undo.push([id, this.pending.get(id)]);
    this.pending.set(id, null);
  }

  async find(options: { after?: string; limit?: number } = {}): Promise<DocumentEntry<D>[]> {
    const limit = options.limit ?? 1000;
    // Storage rows minus buffered deletes plus buffered puts, merged in id order.
    const stored = await this.list({
      ...(options.after === undefined ? {} : { after: options.after }),
      limit: limit + this.pending.size,
    });
    const merged = new Map<string, string>();
    for (const row of stored) merged.set(row.id, row.doc);
    for (const [id, doc] of this.pending) {
      if (options.after !== undefined && id <= options.after) continue;
      if (doc === null) merged.delete(id);
      else merged.set(id, doc);
    }
    return [...merged.keys()]
      .sort(compareIds)
      .slice(0, limit)
      .map((id) => ({ id, doc: parseJson(merged.get(id)!) as D }));
  }
}

/** Code-unit order, the order every storage returns ids in. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
