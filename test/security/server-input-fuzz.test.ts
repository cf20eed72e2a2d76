import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import {
  bodyText,
  concreteRoutes,
  expectClientError,
  heads,
  type InProcessServer,
  inProcessServer,
} from './security-harness.js';

/**
 * Fuzzing of every input the HTTP server accepts (stream ids, bodies, query parameters,
 * `Last-Event-ID`, `Authorization`): each request either succeeds with exactly what was sent, or is
 * answered with a 4xx JSON error `{ error: { code, message } }` and writes nothing. Never a 500.
 */

const NS = 'fuzz';
const OTHER = 'other';
const TOKEN = 'fuzz-token';
const runs = { numRuns: 150 };

let s: InProcessServer;
beforeAll(async () => {
  s = inProcessServer({
    store: createInMemoryStore(),
    tokens: [
      { token: TOKEN, namespaces: [NS] },
      { token: 'other-token', namespaces: [OTHER] },
    ],
  });
  await s.store.withNamespace(NS).append('seed', [{ type: 'Seed', data: { n: 1 }, tags: ['t'] }]);
});
afterAll(async () => {
  await s.store.close();
});

const nested = (depth: number, open: string, inner: string, close: string) =>
  `{"events":[{"type":"Deep","data":${open.repeat(depth)}${inner}${close.repeat(depth)}}]}`;

/** Sends, and checks the outcome: success with the data stored verbatim, or a 4xx and no write. */
async function appendOutcome(path: string, body: string, headers: Record<string, string> = {}) {
  const before = await heads(s.store, [NS, OTHER]);
  const res = await s.send(path, { token: TOKEN, body, headers });
  if (res.status === 201) return { ok: true as const, res, result: await res.json() };
  const code = await expectClientError(res, `POST ${path.slice(0, 120)} ${body.slice(0, 120)}`);
  expect(await heads(s.store, [NS, OTHER])).toEqual(before);
  return { ok: false as const, res, code };
}

const oneEvent = JSON.stringify({ events: [{ type: 'Fuzzed', data: { v: 1 } }] });

/** Stream ids that must be rejected, as raw (already encoded) path segments / query values. */
const invalidEncodedIds = [
  '%00',
  'a%00b',
  'x'.repeat(513),
  '%F0%9F%A6%84'.repeat(129), // 516 bytes of UTF-8
  '%FF', // not UTF-8
  '%ED%A0%80', // an encoded lone surrogate
  '%C0%AE%C0%AE', // overlong encoding of `..`
  '%', // bare percent
  'a%2', // truncated escape
  '%%41',
];

describe('stream ids in paths and in ?id=', () => {
  it('rejects NUL, over-long ids and malformed percent-encoding with a 4xx and writes nothing', async () => {
    for (const raw of invalidEncodedIds) {
      for (const path of [`/api/v1/ns/${NS}/streams/${raw}`, `/api/v1/ns/${NS}/stream?id=${raw}`]) {
        const outcome = await appendOutcome(path, oneEvent);
        expect(outcome.ok, path).toBe(false);
        if (!outcome.ok) expect(outcome.code).toBe('INVALID_INPUT');
        // Reads reject them the same way.
        await expectClientError(await s.send(path, { token: TOKEN }), `GET ${path}`);
      }
    }
  });

  it('accepts 512-byte ids and stores `..`, `%2F`, `*`, `>` ids verbatim through ?id=', async () => {
    for (const id of [
      '🦄'.repeat(128),
      'y'.repeat(512),
      '..',
      '.',
      'a/b',
      '%2F',
      '*',
      '>',
      'a.b',
      ' ',
      '+',
    ]) {
      const outcome = await appendOutcome(`/api/v1/ns/${NS}/stream?id=${encodeURIComponent(id)}`, oneEvent);
      expect(outcome.ok, id).toBe(true);
      expect(outcome.ok && outcome.result.streamId).toBe(id);
    }
    // A dot segment in the path is resolved by the URL parser before it reaches the server: the
    // request lands on another route (404), never on a stream named `..`, and writes nothing.
    for (const raw of ['..', '.', '%2E%2E', '%2e']) {
      const outcome = await appendOutcome(`/api/v1/ns/${NS}/streams/${raw}`, oneEvent);
      expect(outcome.ok, raw).toBe(false);
    }
  });

  it('fuzz: any path segment either names exactly the decoded stream or is a 4xx without a write', async () => {
    const segment = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
      // No `/`: `a/../b` would be resolved by the URL parser before sending, naming another stream.
      fc.stringMatching(/^[%A-Fa-f0-9._~*>+-]{1,12}$/),
      fc.constantFrom(...invalidEncodedIds, '%2F', 'a%2Fb', '%2E%2E', '..', '%20', '%2B', '*', '>'),
    );
    await fc.assert(
      fc.asyncProperty(segment, fc.boolean(), async (raw, queryForm) => {
        const path = queryForm ? `/api/v1/ns/${NS}/stream?id=${raw}` : `/api/v1/ns/${NS}/streams/${raw}`;
        const outcome = await appendOutcome(path, oneEvent);
        if (!outcome.ok) return;
        // 201: the id is the percent-decoding of what was sent (`+` is a space only in a query).
        const expected = decodeURIComponent(queryForm ? raw.replaceAll('+', ' ') : raw);
        expect(outcome.result.streamId).toBe(expected);
        const read = await s.send(
          `/api/v1/ns/${NS}/stream?id=${encodeURIComponent(expected)}&direction=backwards&limit=1`,
          {
            token: TOKEN,
          },
        );
        expect(read.status).toBe(200);
        const page = await read.json();
        expect(page.events[0]).toMatchObject({ streamId: expected, version: outcome.result.lastVersion });
      }),
      runs,
    );
  });
});

describe('append bodies', () => {
  const mustReject = [
    '',
    'not json',
    '{"events":[{"type":"T","data":1}]', // truncated
    'null',
    '[]',
    '"events"',
    '{}',
    '{"events":[]}',
    '{"events":{}}',
    '{"events":[null]}',
    '{"events":[{"type":"T"}]}',
    '{"events":[{"type":"","data":1}]}',
    '{"events":[{"type":1,"data":1}]}',
    '{"events":[{"type":"T","data":1,"extra":1}]}',
    '{"events":[{"type":"T","data":1}],"extra":1}',
    '{"events":[{"type":"T","data":1e400}]}',
    '{"events":[{"type":"T","data":-1e400}]}',
    '{"events":[{"type":"T","data":{"a":[1,2,1e999]}}]}',
    '{"events":[{"type":"\\ud800","data":1}]}',
    '{"events":[{"type":"T","data":"\\u0000"}]}',
    '{"events":[{"type":"T","data":{"\\udfff":1}}]}',
    '{"events":[{"type":"T","data":1,"metadata":[]}]}',
    '{"events":[{"type":"T","data":1,"metadata":"m"}]}',
    '{"events":[{"type":"T","data":1,"tags":"t"}]}',
    '{"events":[{"type":"T","data":1,"tags":[""]}]}',
    '{"events":[{"type":"T","data":1,"id":""}]}',
    '{"events":[{"type":"T","data":1,"id":"x"},{"type":"T","data":2,"id":"x"}]}',
    '{"events":[{"type":"T","data":1}],"expectedVersion":-1}',
    '{"events":[{"type":"T","data":1}],"expectedVersion":1.5}',
    '{"events":[{"type":"T","data":1}],"expectedVersion":"1"}',
    '{"events":[{"type":"T","data":1}],"expectedVersion":null}',
    '{"events":[{"type":"T","data":1}],"expectedVersion":1e400}',
    '{"events":[{"type":"T","data":1}],"condition":{}}',
    '{"events":[{"type":"T","data":1}],"condition":{"failIfEventsMatch":[]}}',
    '{"events":[{"type":"T","data":1}],"condition":{"failIfEventsMatch":{"types":[""]}}}',
    '{"events":[{"type":"T","data":1}],"condition":{"failIfEventsMatch":{"x":1}}}',
    '{"events":[{"type":"T","data":1}],"condition":{"failIfEventsMatch":{},"after":"abc"}}',
    '{"events":[{"type":"T","data":1}],"condition":{"failIfEventsMatch":{},"after":"-1"}}',
    '{"events":[{"type":"T","data":1}],"__proto__":{"expectedVersion":5}}',
    // Duplicate keys: JSON.parse keeps the last one, which is the empty (invalid) list.
    '{"events":[{"type":"T","data":1}],"events":[]}',
    nested(300, '[', '1', ']'),
    nested(300, '{"a":', '1', '}'),
    nested(200_000, '[', '', ']'), // stack-overflow attempt
    nested(100_000, '{"a":', '1', '}'),
    JSON.stringify({ events: [{ type: 'T', data: 'x'.repeat(1024 * 1024) }] }), // one event over 1 MiB
    JSON.stringify({ events: Array.from({ length: 1_001 }, () => ({ type: 'T', data: 1 })) }),
    JSON.stringify({ events: [{ type: 'T'.repeat(257), data: 1 }] }),
    JSON.stringify({ events: [{ type: 'T', data: 1, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }] }),
  ];

  it('rejects every malformed body with a 4xx JSON error and writes nothing', async () => {
    for (const body of mustReject) {
      const outcome = await appendOutcome(`/api/v1/ns/${NS}/streams/bodies`, body);
      expect(outcome.ok, body.slice(0, 100)).toBe(false);
    }
    expect(await s.store.withNamespace(NS).streamVersion('bodies')).toBe(0);
  });

  it('stores huge-but-finite numbers, deep-but-bounded nesting and duplicate keys exactly as JSON.parse reads them', async () => {
    for (const body of [
      '{"events":[{"type":"T","data":123456789012345678901234567890}]}',
      '{"events":[{"type":"T","data":1e308}]}',
      '{"events":[{"type":"T","data":-0}]}',
      '{"events":[{"type":"T","data":{"a":1,"a":2}}]}',
      '{"events":[{"type":"T","data":{"__proto__":{"polluted":true}}}]}',
      '{"events":[{"type":"T","type":"U","data":1}]}',
      nested(200, '[', '"deep"', ']'),
      // A UTF-8 byte order mark is dropped by the body decoding (WHATWG encoding), as in every fetch runtime.
      '\ufeff{"events":[{"type":"T","data":"bom"}]}',
    ]) {
      const outcome = await appendOutcome(`/api/v1/ns/${NS}/streams/verbatim`, body);
      expect(outcome.ok, body.slice(0, 80)).toBe(true);
      const [stored] = await s.store
        .withNamespace(NS)
        .readStream('verbatim', { direction: 'backwards', limit: 1 });
      const sent = JSON.parse(body.replace(/^\ufeff/, '')).events[0];
      expect(stored!.type).toBe(sent.type);
      expect(JSON.stringify(stored!.data)).toBe(JSON.stringify(sent.data));
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('fuzz: arbitrary bodies succeed verbatim or fail with a 4xx and no write', async () => {
    const event = fc.record(
      {
        type: fc.oneof(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 })),
        data: fc.jsonValue({ maxDepth: 3 }),
        metadata: fc.jsonValue({ maxDepth: 2 }),
        id: fc.oneof(fc.uuid(), fc.string({ maxLength: 5 }), fc.integer()),
        tags: fc.oneof(
          fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        extra: fc.jsonValue({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    const shaped = fc
      .record(
        {
          events: fc.oneof(fc.array(event, { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
          expectedVersion: fc.oneof(
            fc.integer({ min: -2, max: 3 }),
            fc.double(),
            fc.constantFrom('any', 'no_stream', 'stream_exists', 'nope'),
          ),
          condition: fc.oneof(
            fc.record({
              failIfEventsMatch: fc.oneof(
                fc.record(
                  { types: fc.array(fc.string({ maxLength: 5 }), { maxLength: 2 }) },
                  { requiredKeys: [] },
                ),
                fc.jsonValue({ maxDepth: 2 }),
              ),
              after: fc.oneof(fc.constantFrom('0', '1', '2.1', 'x', '-1'), fc.string({ maxLength: 4 })),
            }),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          junk: fc.jsonValue({ maxDepth: 1 }),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o));
    const text = fc.oneof(
      shaped,
      fc.json({ maxDepth: 3 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      // Corrupt a valid body at a random point.
      fc.tuple(shaped, fc.nat(), fc.string({ maxLength: 3 })).map(([b, at, junk]) => {
        const cut = at % (b.length + 1);
        return b.slice(0, cut) + junk + b.slice(cut + 1);
      }),
    );
    await fc.assert(
      fc.asyncProperty(text, fc.constantFrom('application/json', 'text/plain'), async (body, contentType) => {
        const outcome = await appendOutcome(`/api/v1/ns/${NS}/streams/fuzz-body`, body, {
          'content-type': contentType,
        });
        if (!outcome.ok) return;
        const sent = JSON.parse(body).events as { type: string; data: unknown }[];
        const stored = await s.store
          .withNamespace(NS)
          .readStream('fuzz-body', { fromVersion: outcome.result.firstVersion });
        expect(stored.map((e) => [e.type, JSON.stringify(e.data)])).toEqual(
          sent.map((e) => [e.type, JSON.stringify(e.data)]),
        );
      }),
      runs,
    );
  });
});

describe('query parameters', () => {
  const mustReject: [string, string][] = [
    ['/streams/seed', 'limit=0'],
    ['/streams/seed', 'limit=-1'],
    ['/streams/seed', 'limit=abc'],
    ['/streams/seed', 'limit=1e3'],
    ['/streams/seed', 'limit=99999999999999999999'],
    ['/streams/seed', 'fromVersion=-1'],
    ['/streams/seed', 'toVersion=1.5'],
    ['/streams/seed', 'direction=sideways'],
    ['/streams/seed', 'unknown=1'],
    ['/stream', 'id=seed&limit=%FF'],
    ['/stream', 'limit=1'], // no id
    ['/events', 'after=abc'],
    ['/events', 'after=-1'],
    ['/events', 'after=1..2'],
    ['/events', 'after=%00'],
    ['/events', 'limit=0'],
    ['/events', 'type='],
    ['/events', `tag=${'t'.repeat(257)}`],
    ['/events', 'type=%ED%A0%80'],
    ['/events', 'direction=backwards'],
    ['/streams', 'limit=0'],
    ['/streams', 'limit=1001'],
    ['/streams', `search=${'s'.repeat(513)}`],
    ['/streams', 'bogus=1'],
    ['/subscribe', 'after=x'],
    ['/subscribe', 'type='],
    ['/subscribe', 'from=1'],
    // Prototype keys are unknown parameters like any other.
    ['/events', '__proto__=1'],
    ['/streams', 'constructor=1'],
    ['/streams/seed', 'toString=1'],
    ['/subscribe', '__proto__%5Bx%5D=1'],
    ['/stream', 'id=seed&hasOwnProperty=1'],
  ];

  it('rejects bad parameters on every read route with 400 INVALID_INPUT', async () => {
    for (const [route, query] of mustReject) {
      const res = await s.send(`/api/v1/ns/${NS}${route}?${query}`, { token: TOKEN });
      expect(await expectClientError(res, `${route}?${query}`)).toBe('INVALID_INPUT');
    }
  });

  it('fuzz: random parameters on every GET route never give a 5xx and never write', async () => {
    const routes = concreteRoutes(s.server, NS, { streamId: 'seed', projection: 'none' }).filter(
      (r) => r.method === 'GET' && r.path.startsWith('/api/'),
    );
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }).map(encodeURIComponent),
      fc.constantFrom(
        '0',
        '1',
        '2.1',
        '-1',
        '1e3',
        '',
        'forwards',
        'backwards',
        '%FF',
        '%00',
        '999999999999999999999',
      ),
      fc.nat().map(String),
    );
    const param = fc.tuple(
      fc.constantFrom(
        'after',
        'limit',
        'fromVersion',
        'toVersion',
        'direction',
        'type',
        'tag',
        'search',
        'id',
        'x',
      ),
      value,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(param, { maxLength: 4 }),
        async (route, params) => {
          const before = await heads(s.store, [NS, OTHER]);
          const query = params.map(([k, v]) => `${k}=${v}`).join('&');
          const path = route.path + (route.path.includes('?') ? '&' : '?') + query;
          const res = await s.send(path, { token: TOKEN });
          if (res.status >= 400) await expectClientError(res, path);
          else {
            expect(res.status, path).toBe(200);
            await bodyText(res);
          }
          expect(await heads(s.store, [NS, OTHER])).toEqual(before);
        },
      ),
      runs,
    );
  });
});

describe('SSE Last-Event-ID', () => {
  it('rejects a malformed Last-Event-ID with 400 before the stream starts', async () => {
    for (const id of ['abc', '-1', '1.', '.1', '1..2', '0x10', ' 1 x', '1e3']) {
      const res = await s.send(`/api/v1/ns/${NS}/subscribe`, {
        token: TOKEN,
        headers: { 'last-event-id': id },
      });
      expect(await expectClientError(res, `Last-Event-ID ${id}`)).toBe('INVALID_INPUT');
    }
  });

  it('fuzz: any Last-Event-ID is a 200 event stream or a 400, never a 5xx', async () => {
    const header = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'0123456789.-+eE x'), maxLength: 12 }),
      fc.string({ unit: 'binary-ascii', maxLength: 12 }).filter((v) => !/[\0\r\n]/.test(v)),
    );
    await fc.assert(
      fc.asyncProperty(header, async (id) => {
        const res = await s.send(`/api/v1/ns/${NS}/subscribe?type=Seed`, {
          token: TOKEN,
          headers: { 'last-event-id': id },
        });
        if (res.status === 200) {
          expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
          await bodyText(res);
        } else
          expect(await expectClientError(res, `Last-Event-ID ${JSON.stringify(id)}`)).toBe('INVALID_INPUT');
      }),
      { numRuns: 100 },
    );
  });
});

describe('Authorization headers', () => {
  // Headers strip HTTP whitespace (space, tab) around values, nothing else.
  const accepted = (header: string) =>
    /^Bearer\s+fuzz-token\s*$/i.test(header.replace(/^[ \t]+|[ \t]+$/g, ''));

  it('rejects malformed and wrong tokens with 401 on every API route, writing nothing', async () => {
    const routes = concreteRoutes(s.server, NS, { streamId: 'auth', projection: 'none' }).filter((r) =>
      r.pattern.startsWith('/api/v1/ns/'),
    );
    const malformed = [
      'Bearer',
      'Bearer ',
      'Bearer fuzz-token extra',
      'Bearer fuzz-tokenx',
      'Bearer fuzz-toke',
      'Bearer FUZZ-TOKEN',
      'Basic ZnV6ei10b2tlbjo=',
      'Token fuzz-token',
      'fuzz-token',
      'Bearer other-token fuzz-token',
      'Bearer,fuzz-token',
      `Bearer ${'a'.repeat(8_000)}`,
      'Bearer %66uzz-token',
    ];
    for (const route of routes) {
      for (const header of malformed) {
        const before = await heads(s.store, [NS, OTHER]);
        const res = await s.send(route.path, {
          method: route.method,
          headers: { authorization: header },
          ...(route.body ? { body: route.body } : {}),
        });
        expect(res.status, `${route.method} ${route.path} ${header.slice(0, 40)}`).toBe(401);
        expect(await expectClientError(res, route.path)).toBe('UNAUTHORIZED');
        expect(await heads(s.store, [NS, OTHER])).toEqual(before);
      }
    }
  });

  it('fuzz: only the exact bearer token is accepted', async () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 30 }).filter((v) => !/[\0\r\n]/.test(v)),
      fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Bearer:', ''),
          fc.constantFrom(' ', '\t', '  ', ''),
          fc.string({ maxLength: 12 }),
        )
        .map(([scheme, space, token]) => `${scheme}${space}${token}`)
        .filter((v) => !/[\0\r\n]/.test(v) && [...v].every((ch) => ch.charCodeAt(0) < 256)),
      fc.constantFrom('Bearer fuzz-token', 'bearer fuzz-token', 'Bearer\tfuzz-token', 'Bearer fuzz-token '),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const res = await s.send(`/api/v1/ns/${NS}/head`, { headers: { authorization: value } });
        if (accepted(value)) expect(res.status, value).toBe(200);
        else {
          expect(res.status, JSON.stringify(value)).toBe(401);
          expect(await expectClientError(res, value)).toBe('UNAUTHORIZED');
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('Ordo-Attempt header', () => {
  it('fuzz: any retry marker is accepted or refused cleanly, never a 5xx', async () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary-ascii', maxLength: 20 }).filter((v) => !/[\0\r\n]/.test(v)),
      fc.constantFrom('0', '-1', '1e309', 'NaN', 'Infinity', '9007199254740993', '2', ' 3 '),
    );
    await fc.assert(
      fc.asyncProperty(value, async (attempt) => {
        const res = await s.send(`/api/v1/ns/${NS}/streams/attempts`, {
          token: TOKEN,
          body: oneEvent,
          headers: { 'ordo-attempt': attempt },
        });
        if (res.status !== 201) await expectClientError(res, `Ordo-Attempt ${JSON.stringify(attempt)}`);
      }),
      { numRuns: 60 },
    );
  });
});

describe('after the fuzzing', () => {
  it('logged no unexpected (5xx) failure and only the fuzz namespace holds events', async () => {
    expect(s.logged).toEqual([]);
    expect(await s.store.withNamespace(OTHER).headPosition()).toBe('0');
  });
});
