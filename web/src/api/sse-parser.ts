export interface ServerSentEvent {
  event: string;
  data: string;
}

/**
 * Splits a text/event-stream into events (WHATWG HTML, "Interpreting an event stream"):
 * feed it decoded chunks, get back the events they complete. Comments and `retry:`/`id:` lines
 * are skipped; the console does not need them.
 */
export class SseParser {
  #buffer = '';

  push(chunk: string): ServerSentEvent[] {
    this.#buffer += chunk.replace(/\r\n?/g, '\n');
    const events: ServerSentEvent[] = [];
    let end: number;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event) events.push(event);
    }
    return events;
  }
}

function parseBlock(block: string): ServerSentEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : null;
}
