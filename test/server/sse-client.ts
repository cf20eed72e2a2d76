import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A test SSE client over fetch: collects messages, lets a test wait for a count, and disconnects. */
export interface SseClient {
  status: number;
  messages: EventSourceMessage[];
  waitFor(count: number, timeoutMs?: number): Promise<EventSourceMessage[]>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const messages: EventSourceMessage[] = [];
  let notify: (() => void) | undefined;
  const client: SseClient = {
    status: res.status,
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${count} SSE messages, got ${messages.length}`);
        await new Promise<void>((resolve) => {
          notify = resolve;
          setTimeout(resolve, 100);
        });
      }
      return messages.slice(0, count);
    },
    close: () => controller.abort(),
  };
  if (res.status !== 200 || !res.body) return client;
  const parser = createParser({
    onEvent(message) {
      messages.push(message);
      notify?.();
    },
  });
  (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
        parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted by close()
    }
  })();
  return client;
}
