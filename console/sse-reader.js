// Reads a server-sent-event stream over fetch (EventSource cannot send an Authorization header).
// Remembers the last event id and reconnects after it, so no event is lost or repeated.

/**
 * @param {() => {url: string, headers: Record<string, string>}} target
 * @param {(event: {id: string, event: string, data: string}) => void} onMessage
 * @param {(state: 'open' | 'closed' | 'error', detail?: string) => void} onState
 * @returns {{ close(): void }}
 */
export function readEvents(target, onMessage, onState) {
  let controller = new AbortController();
  let lastId = '';
  let stopped = false;

  const run = async () => {
    while (!stopped) {
      try {
        const { url, headers } = target();
        const res = await fetch(url, {
          headers: lastId ? { ...headers, 'last-event-id': lastId } : headers,
          signal: controller.signal,
        });
        if (res.status !== 200) {
          const body = await res.json().catch(() => ({}));
          onState('error', body?.error?.message ?? `HTTP ${res.status}`);
          return;
        }
        onState('open');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const message = { id: '', event: 'message', data: '' };
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'data') data.push(val);
              else if (field === 'id') message.id = val;
              else if (field === 'event') message.event = val;
            }
            if (data.length === 0) continue;
            message.data = data.join('\n');
            if (message.id) lastId = message.id;
            onMessage(message);
          }
        }
      } catch (error) {
        if (stopped) return;
        onState('error', String(error));
      }
      if (!stopped) {
        onState('closed');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  run();
  return {
    close() {
      stopped = true;
      controller.abort();
      controller = new AbortController();
    },
  };
}
