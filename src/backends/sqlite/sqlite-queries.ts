import type { EventQuery, Position } from '../../core/types.js';

/** A value bound to a statement parameter. */
export type SqlParam = string | number;

/**
 * SQL selecting the positions (in `namespace`, after a position) of events matching one query.
 * Each shape is driven by an index (type or first tag), so a check costs the matching events
 * after the position, never a scan of the whole log.
 */
export function sqlForMatchingPositions(
  query: EventQuery,
  namespace: string,
  after: number,
): { sql: string; params: SqlParam[] } {
  const types = query.types && query.types.length > 0 ? [...new Set(query.types)] : undefined;
  const tags = query.tags && query.tags.length > 0 ? [...new Set(query.tags)] : undefined;
  const typeList = types ? types.map(() => '?').join(', ') : '';
  if (!tags) {
    if (!types)
      return {
        sql: 'SELECT position FROM events WHERE namespace = ? AND position > ?',
        params: [namespace, after],
      };
    return {
      sql: `SELECT position FROM events WHERE namespace = ? AND type IN (${typeList}) AND position > ?`,
      params: [namespace, ...types, after],
    };
  }
  // Driven by the tag index on the first tag; the other tags and the types are index lookups per hit.
  const [first, ...others] = tags;
  let sql = 'SELECT t0.position FROM event_tags t0';
  const params: SqlParam[] = [];
  others.forEach((tag, i) => {
    sql += ` JOIN event_tags t${i + 1} ON t${i + 1}.namespace = t0.namespace AND t${i + 1}.tag = ? AND t${i + 1}.position = t0.position`;
    params.push(tag);
  });
  if (types) {
    sql += ` JOIN events e ON e.position = t0.position AND e.type IN (${typeList})`;
    params.push(...types);
  }
  sql += ' WHERE t0.namespace = ? AND t0.tag = ? AND t0.position > ?';
  params.push(namespace, first!, after);
  return { sql, params };
}

/** The integer position strictly before every event after `position` (positions here are one integer). */
export function positionAfter(position: Position): number {
  // '5.3' sorts between '5' and '6', so "after 5.3" is "after 5" for integer positions.
  const head = position.split('.')[0]!;
  return head.length > 15 ? Number.MAX_SAFE_INTEGER : Number(head);
}

/**
 * SQL of one page of a filtered global read: ids of at most `limit` matching events after a
 * position, in position order. Every part of the filter (one per type, tags driven by their index)
 * yields positions in index order and stops after `limit`, so a page costs O(parts × limit), not
 * the number of matching events after the position.
 */
export function sqlForFilteredPage(
  queries: readonly EventQuery[],
  namespace: string,
  after: number,
  limit: number,
): { sql: string; params: SqlParam[] } {
  const parts: { sql: string; params: SqlParam[] }[] = [];
  for (const query of queries) {
    const types = query.types && query.types.length > 0 ? [...new Set(query.types)] : undefined;
    const tagged = query.tags !== undefined && query.tags.length > 0;
    // Without tags the type index drives the read; one part per type keeps each in position order.
    const split = types && !tagged ? types.map((type) => ({ ...query, types: [type] })) : [query];
    for (const one of split) parts.push(sqlForMatchingPositions(one, namespace, after));
  }
  const sql = parts.map((p) => `SELECT * FROM (${p.sql} ORDER BY 1 LIMIT ?)`).join(' UNION ');
  return {
    sql: `${sql} ORDER BY 1 LIMIT ?`,
    params: [...parts.flatMap((p) => [...p.params, limit]), limit],
  };
}
