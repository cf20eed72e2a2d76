import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { START } from '../core/position.js';
import { validateReadAllOptions } from '../core/validation.js';
import { filterFromQuery, plainQuery } from './append-routes.js';
import { subscribeQuerySchema } from './schemas.js';
import type { ApiEnv, ServerContext } from './server-context.js';

/**
 * `GET /api/v1/ns/:namespace/subscribe`: server-sent events, catch-up then live, in global order.
 * Each event carries its position as SSE `id`, so a client that reconnects with `Last-Event-ID`
 * (or `?after=`) resumes right after the last event it received: nothing lost, nothing repeated.
 * The header wins over the parameter because browsers send it on automatic reconnects.
 */
export function registerSubscribeRoute(app: Hono<ApiEnv>, ctx: ServerContext): void {
  app.get('/api/v1/ns/:namespace/subscribe', (c) => {
    const { store } = c.var.ns;
    const query = subscribeQuerySchema.parse(plainQuery(c));
    const lastEventId = c.req.header('last-event-id');
    const after = lastEventId !== undefined && lastEventId !== '' ? lastEventId : (query.after ?? START);
    const filter = filterFromQuery(c);
    // Validate before the 200 and the event stream start, so bad input is a plain 400.
    validateReadAllOptions({ after, ...(filter ? { filter } : {}) });
    // HEAD runs this GET handler but its body is never read nor cancelled, so a stream opened
    // here would never end: a subscription leaked per HEAD request.
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'content-type': 'text/event-stream' });

    return streamSSE(c, async (stream) => {
      ctx.metrics.subscriptions.inc();
      let abort!: () => void;
      const aborted = new Promise<void>((resolve) => {
        abort = resolve;
      });
      stream.onAbort(abort);
      let finished!: () => void;
      const cleanedUp = new Promise<void>((resolve) => {
        finished = resolve;
      });
      const stop = () => {
        abort();
        return cleanedUp;
      };
      ctx.openStreams.add(stop);
      const heartbeat = setInterval(() => {
        stream.write(': keep-alive\n\n').catch(abort);
      }, ctx.heartbeatMs);
      const subscription = store.subscribe({ after, ...(filter ? { filter } : {}) }, async (event) => {
        await stream.writeSSE({ id: event.position, event: 'event', data: JSON.stringify(event) });
      });
      try {
        await stream.write(': subscribed\n\n');
        await Promise.race([aborted, subscription.closed]);
      } catch (error) {
        // The subscription failed (store closed or unavailable): tell the client, which may resume.
        const message = error instanceof Error ? error.message : String(error);
        const code = (error as { code?: unknown })?.code;
        await stream
          .writeSSE({
            event: 'error',
            data: JSON.stringify({ error: { code: typeof code === 'string' ? code : 'INTERNAL', message } }),
          })
          .catch(() => {});
      } finally {
        clearInterval(heartbeat);
        ctx.openStreams.delete(stop);
        await subscription.close();
        ctx.metrics.subscriptions.dec();
        finished();
      }
    });
  });
}
