import type { EventFilter, EventQuery } from './types.js';

/** True when an event with this type and tags matches the query (type in types AND all tags present). */
export function matchesQuery(query: EventQuery, type: string, tags: readonly string[]): boolean {
  if (query.types && query.types.length > 0 && !query.types.includes(type)) return false;
  if (query.tags) {
    for (const tag of query.tags) if (!tags.includes(tag)) return false;
  }
  return true;
}

/** True when the event matches any of the queries. */
export function matchesAny(queries: readonly EventQuery[], type: string, tags: readonly string[]): boolean {
  return queries.some((query) => matchesQuery(query, type, tags));
}

/** Normalizes a filter to a list of queries. */
export function toQueries(filter: EventFilter): EventQuery[] {
  return Array.isArray(filter) ? filter : [filter];
}
