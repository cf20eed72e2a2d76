import type { Context, Hono } from 'hono';
import { isAppendConditionFailure, isConflict } from '../core/errors.js';
import type { AppendOptions, EventFilter, EventQuery, NewEvent } from '../core/types.js';
import { HttpError } from './http-error.js';
import {
  appendBodySchema,
  listStreamsQuerySchema,
  readAllQuerySchema,
  readStreamQuerySchema,
} from './schemas.js';
import type { ApiEnv, ServerContext } from './server-context.js';

/** Events per `GET …/streams/:streamId` page when the client gives no `limit`. */
export const DEFAULT_STREAM_PAGE = 1_000;

/** Parses a JSON body; malformed JSON is a 400, never a 500. */
export async function readJsonBody(c: Context): Promise<unknown> {
  // Only declared JSON: a web page can POST text/plain or form bodies cross-site without a CORS
  // preflight, so accepting any content type would let any page write into a server without tokens.
  if (!/^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i.test(c.req.header('content-type') ?? '')) {
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'the request body must be JSON (Content-Type: application/json)',
      { field: 'content-type' },
    );
  }
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      'INVALID_INPUT',
      'request body is not valid JSON',
      { field: 'body' },
      { cause: error },
    );
  }
}

/** Builds a filter from repeated `type=` and `tag=` query parameters (undefined when neither is given). */
export function filterFromQuery(c: Context): EventFilter | undefined {
  const types = c.req.queries('type');
  const tags = c.req.queries('tag');
  if (!types && !tags) return undefined;
  const query: EventQuery = {};
  if (types) query.types = types;
  if (tags) query.tags = tags;
  return query;
}

/** The query parameters without the repeated filter ones (validated separately). */
export function plainQuery(c: Context): Record<string, string> {
  const { type: _type, tag: _tag, ...rest } = c.req.query();
  return rest;
}

/** Registers append, read-stream, stream-version, read-all, stream-listing and stats routes. */
export function registerStreamRoutes(app: Hono<ApiEnv>, ctx: ServerContext): void {
  const base = '/api/v1/ns/:namespace';

  // Stream ids travel as one URL-encoded path segment; `…/stream?id=` is the same route for ids
  // such as `.` and `..` that URL parsers resolve as dot segments before sending.
  const paths = (suffix = '') => [`${base}/streams/:streamId${suffix}`, `${base}/stream${suffix}`];
  const streamIdOf = (c: Context): string => {
    const id = c.req.param('streamId') ?? c.req.query('id');
    if (id === undefined)
      throw new HttpError(400, 'INVALID_INPUT', 'streamId: missing (use ?id=)', { field: 'streamId' });
    return id;
  };
  const withoutId = (c: Context) => {
    const { id: _id, ...rest } = c.req.query();
    return c.req.param('streamId') === undefined ? rest : c.req.query();
  };

  app.on('POST', paths(), async (c) => {
    const { namespace, store, rates } = c.var.ns;
    const streamId = streamIdOf(c);
    const body = appendBodySchema.parse(await readJsonBody(c));
    const attempt = Number(c.req.header('ordo-attempt') ?? '1');
    if (Number.isSafeInteger(attempt) && attempt > 1) {
      ctx.metrics.retries.inc({ namespace });
      rates.add('retries');
    }
    const options: AppendOptions = {};
    if (body.expectedVersion !== undefined) options.expectedVersion = body.expectedVersion;
    if (body.condition !== undefined) options.condition = body.condition;
    const stopTimer = ctx.metrics.appendDuration.startTimer({ namespace });
    try {
      const result = await store.append(streamId, body.events as NewEvent[], options);
      ctx.metrics.appends.inc({ namespace });
      ctx.metrics.eventsAppended.inc({ namespace }, body.events.length);
      rates.add('appends');
      rates.add('events', body.events.length);
      return c.json(result, 201);
    } catch (error) {
      if (isConflict(error)) {
        ctx.metrics.conflicts.inc({
          namespace,
          kind: isAppendConditionFailure(error) ? 'condition' : 'version',
        });
        rates.add('conflicts');
      }
      throw error;
    } finally {
      stopTimer();
    }
  });

  app.on('GET', paths(), async (c) => {
    const { store } = c.var.ns;
    const streamId = streamIdOf(c);
    const query = readStreamQuerySchema.parse(withoutId(c));
    // A default page size keeps one request bounded however long the stream is.
    const limit = query.limit ?? DEFAULT_STREAM_PAGE;
    const { events, malformed } = await store.readStreamWithErrors(streamId, { ...query, limit });
    const backwards = query.direction === 'backwards';
    const versions = [...events.map((e) => e.version), ...malformed.map((m) => m.version)];
    const last =
      versions.length === 0 ? undefined : backwards ? Math.min(...versions) : Math.max(...versions);
    const full = versions.length >= limit && last !== undefined;
    const nextFromVersion = full ? (backwards ? (last > 1 ? last - 1 : null) : last + 1) : null;
    return c.json({
      streamId,
      events,
      malformed: malformed.map((m) => ({ version: m.version, position: m.position, error: m.error.message })),
      nextFromVersion,
    });
  });

  app.on('GET', paths('/version'), async (c) => {
    const streamId = streamIdOf(c);
    return c.json({ streamId, version: await c.var.ns.store.streamVersion(streamId) });
  });

  app.get(`${base}/streams`, async (c) => {
    const query = listStreamsQuerySchema.parse(c.req.query());
    return c.json(await c.var.ns.index.list(query));
  });

  app.get(`${base}/events`, async (c) => {
    const query = readAllQuerySchema.parse(plainQuery(c));
    const filter = filterFromQuery(c);
    const events = await c.var.ns.store.readAll({
      ...(query.after === undefined ? {} : { after: query.after }),
      limit: query.limit ?? 100,
      ...(filter ? { filter } : {}),
    });
    const last = events[events.length - 1];
    return c.json({ events, nextAfter: last ? last.position : (query.after ?? '0') });
  });

  app.get(`${base}/head`, async (c) => c.json({ position: await c.var.ns.store.headPosition() }));

  app.get(`${base}/stats`, (c) => c.json({ namespace: c.var.ns.namespace, series: c.var.ns.rates.series() }));
}
