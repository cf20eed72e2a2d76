import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInMemoryStore } from '../../src/index.js';
import { createServer, type OrdoServer } from '../../src/server/index.js';
import {
  expectClientError,
  heads,
  type JsonResponse,
  readSseUntil,
  recordingLogger,
} from './security-harness.js';

/**
 * Oversized bodies and slow clients against a listening server: a body over `maxBodyBytes` gets a
 * 413 and writes nothing (with or without `Content-Length`, and before the body is even sent);
 * clients that send slowly or never read an event stream occupy only their own connection.
 */

const MAX = 64 * 1024;
const NS = 'limits';
const TOKEN = 'limits-token';
const store = createInMemoryStore();
const logger = recordingLogger();
let server: OrdoServer;
let url: string;
let port: number;
const sockets: net.Socket[] = [];

beforeAll(async () => {
  server = createServer({
    store,
    logger,
    maxBodyBytes: MAX,
    heartbeatMs: 60_000,
    consoleDir: false,
    tokens: [{ token: TOKEN, namespaces: [NS] }],
  });
  ({ url, port } = await server.listen({ port: 0 }));
});
afterAll(async () => {
  // Closed while the stalled subscribers are still connected: shutdown must not wait for them.
  await server.close();
  for (const socket of sockets) socket.destroy();
  await store.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const appendPath = (id: string) => `/api/v1/ns/${NS}/streams/${id}`;
const eventsBody = (bytes: number) => {
  const base = JSON.stringify({ events: [{ type: 'Big', data: { pad: '' } }] });
  return JSON.stringify({
    events: [{ type: 'Big', data: { pad: 'x'.repeat(Math.max(0, bytes - base.length)) } }],
  });
};

/** A raw connection: sends `head` (and optionally part of a body), collects what the server answers. */
function rawRequest(
  head: string,
  body = '',
): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    data += chunk;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(head + body);
  return { socket, received: () => data, closed };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const req413 = (answer: { status: number; body: string }) =>
  answer.status === 413 && JSON.parse(answer.body).error.code === 'PAYLOAD_TOO_LARGE';

/** `fetch` with the JSON body typed loosely (shapes are asserted). */
const get = (path: string): Promise<JsonResponse> => fetch(url + path, { headers: auth });

async function append(id: string, body: string): Promise<JsonResponse> {
  return fetch(url + appendPath(id), {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body,
  });
}

describe('oversized bodies', () => {
  it('accepts a body of exactly maxBodyBytes and answers 413 for one byte more, writing nothing', async () => {
    const exact = eventsBody(MAX);
    expect(Buffer.byteLength(exact)).toBe(MAX);
    expect((await append('exact', exact)).status).toBe(201);
    const before = await heads(store, [NS]);
    const res = await append('over', eventsBody(MAX + 1));
    expect(res.status).toBe(413);
    expect(await expectClientError(res, 'one byte over')).toBe('PAYLOAD_TOO_LARGE');
    expect(await heads(store, [NS])).toEqual(before);
    expect(await store.withNamespace(NS).streamVersion('over')).toBe(0);
  });

  it('answers 413 to a chunked body without Content-Length, writing nothing', async () => {
    const before = await heads(store, [NS]);
    // node:http with its own connection (agent: false): the server closes it after the 413, and a
    // pooled fetch connection would be reused by the next test.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${url}${appendPath('chunked')}`,
        { method: 'POST', agent: false, headers: { ...auth, 'content-type': 'application/json' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      // A valid JSON prefix, then whitespace: only the size limit can stop it.
      req.write('{"events":[{"type":"T","data":1}]');
      const chunk = ' '.repeat(16 * 1024);
      let sent = 0;
      let answered = false;
      req.on('response', () => {
        answered = true;
      });
      const more = () => {
        while (sent < 64 && !answered && req.write(chunk)) sent++;
        if (sent < 64 && !answered) req.once('drain', more);
        else req.end();
      };
      more();
    });
    expect(req413(answer)).toBe(true);
    expect(answer.body).toContain('"PAYLOAD_TOO_LARGE"');
    expect(await heads(store, [NS])).toEqual(before);
  });

  it('answers 413 from Content-Length alone, before the client sends the body', async () => {
    const { received, socket } = rawRequest(
      `POST /api/v1/ns/${NS}/streams/declared HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    await until(() => /\r\n\r\n\{.*\}/s.test(received()), 'the 413 answer');
    expect(received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(received()).toContain('"PAYLOAD_TOO_LARGE"');
    socket.destroy();
    expect(await store.withNamespace(NS).streamVersion('declared')).toBe(0);
  });

  it('answers 401 to a huge body without a token before reading it', async () => {
    const { received, socket } = rawRequest(
      `POST /api/v1/ns/${NS}/streams/anon HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${100 * 1024 * 1024}\r\n\r\n`,
    );
    await until(() => /\r\n\r\n\{.*\}/s.test(received()), 'the 401 answer');
    expect(received()).toMatch(/^HTTP\/1\.1 401 /);
    socket.destroy();
  });

  it('applies the default 5 MiB limit when none is configured', async () => {
    const plain = createServer({ store, logger, consoleDir: false });
    const before = await heads(store, ['default']);
    const res = await plain.fetch(
      new Request('http://127.0.0.1/api/v1/ns/default/streams/default-limit', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: eventsBody(5 * 1024 * 1024 + 1),
      }),
    );
    expect(res.status).toBe(413);
    expect(await heads(store, ['default'])).toEqual(before);
  });
});

describe('slow clients', () => {
  it('a client that sends its body very slowly or stops sending blocks nobody, and writes nothing', async () => {
    const body = JSON.stringify({ events: [{ type: 'Slow', data: { n: 1 } }] });
    const slow = Array.from({ length: 10 }, () =>
      rawRequest(
        `POST /api/v1/ns/${NS}/streams/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        body.slice(0, 5),
      ),
    );
    // Dribble a few more bytes on some connections while others make normal requests.
    const dribble = setInterval(() => {
      for (const { socket } of slow.slice(0, 5)) socket.write(' ');
    }, 50);
    // Slowloris: connections that never finish their headers.
    const loris = Array.from({ length: 10 }, () => rawRequest(`GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: `));
    try {
      for (let i = 0; i < 20; i++) {
        expect(
          (await append('fast', JSON.stringify({ events: [{ type: 'Fast', data: { i } }] }))).status,
        ).toBe(201);
        const read = await get(`/api/v1/ns/${NS}/streams/fast?limit=1&direction=backwards`);
        expect((await read.json()).events[0].data).toEqual({ i });
      }
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      clearInterval(dribble);
    }
    for (const { socket, received } of [...slow, ...loris]) {
      expect(received()).toBe(''); // never answered: still waiting for the rest of its request
      socket.destroy();
    }
    expect(await store.withNamespace(NS).streamVersion('slow')).toBe(0);
  });

  it('SSE clients that never read do not stall appends, reads or other subscribers', async () => {
    const subscribe = `GET /api/v1/ns/${NS}/subscribe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`;
    const stalled = Array.from({ length: 5 }, () => rawRequest(subscribe));
    for (const { socket } of stalled) socket.pause(); // read nothing: kernel buffers fill, server writes block
    const reader = await fetch(`${url}/api/v1/ns/${NS}/subscribe?type=Flood`, { headers: auth });
    expect(reader.status).toBe(200);
    const flooded = readSseUntil(reader, (t) => t.includes('"last":true'), 30_000);

    // ~3 MiB of events (64 appends under the body limit): far more than the stalled sockets buffer.
    const pad = 'p'.repeat(1024);
    for (let batch = 0; batch < 64; batch++) {
      const events = Array.from({ length: 50 }, (_, i) => ({
        type: 'Flood',
        data: { pad, last: batch === 63 && i === 49 },
      }));
      const res = await append('flood', JSON.stringify({ events }));
      expect(res.status).toBe(201);
      // Meanwhile other requests are answered.
      if (batch % 8 === 0)
        expect((await fetch(`${url}/api/v1/ns/${NS}/head`, { headers: auth })).status).toBe(200);
    }
    const text = await flooded;
    expect(text.match(/^event: event$/gm)).toHaveLength(3200);
    expect((await (await get(`/api/v1/ns/${NS}/streams/flood/version`)).json()).version).toBe(3200);
    // Shutdown is bounded even with stalled subscribers (close() is awaited in afterAll).
    expect(logger.errors).toEqual([]);
  });

  it('subscribers that disconnect, and HEAD requests on the event stream, leave no subscription behind', async () => {
    const open = async () => (await server.metrics.subscriptions.get()).values[0]?.value ?? 0;
    const baseline = await open();
    const clients = ['GET', 'HEAD', 'GET', 'HEAD', 'GET', 'HEAD'].map((method) =>
      rawRequest(
        `${method} /api/v1/ns/${NS}/subscribe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
      ),
    );
    await Promise.all(
      clients.map((c) => until(() => /^HTTP\/1\.1 200 /.test(c.received()), 'the 200 answer')),
    );
    for (const { socket } of clients) socket.destroy();
    let now = await open();
    const deadline = Date.now() + 10_000;
    while (now > baseline && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      now = await open();
    }
    expect(now).toBe(baseline);
  });
});
