/**
 * A raw Server-Sent Events reader for the daemon's `/api/events`, written from the SSE
 * specification rather than from `@jobwatch/rx`: it keeps the last event id, reconnects with
 * `Last-Event-ID`, and can be made to drop its connection at random moments.
 */
import { type ClientRequest, request } from 'node:http';
import type { Random } from '@jobwatch/test-utils';

/** One `event: snapshot` as received: its id and parsed data. */
export interface ReceivedEvent {
  readonly id: number;
  readonly data: {
    readonly jobid: string;
    readonly status: string | null;
    readonly terminal: boolean;
  };
}

/** Options of {@link SseClient}. */
export interface SseClientOptions {
  /** The full events URL, filters included. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** When given, the connection is dropped after a random 1–`maxLifeMs` ms, while `chaos()` is true. */
  readonly random?: Random;
  readonly maxLifeMs?: number;
  /** Whether random drops are still wanted. @default () => true */
  readonly chaos?: () => boolean;
  /** Wait before reconnecting after an error or a drop. @default 200 */
  readonly reconnectMs?: number;
}

/** A reconnecting SSE reader that records everything it saw. */
export class SseClient {
  readonly events: ReceivedEvent[] = [];
  /** Ids out of order or repeated (should stay empty). */
  readonly outOfOrder: Array<{ previous: number; id: number }> = [];
  /** Other protocol oddities: bad data, non-200 answers. */
  readonly problems: string[] = [];
  resyncs = 0;
  connects = 0;
  drops = 0;
  /** Set once the daemon sent `event: end`. */
  ended: { reason?: string } | undefined;
  lastId: number | undefined;
  /** Whether a response is being read now. */
  connected = false;
  #req: ClientRequest | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #options: SseClientOptions;

  constructor(options: SseClientOptions) {
    this.#options = options;
  }

  /** Starts reading (and reconnecting until {@link close} or an `end` event). */
  open(): void {
    this.#connect();
  }

  /** Stops for good. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#req?.destroy();
  }

  #schedule(ms: number): void {
    if (this.#closed || this.ended) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#connect(), ms);
  }

  #connect(): void {
    if (this.#closed || this.ended) return;
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      ...this.#options.headers,
    };
    if (this.lastId !== undefined) headers['last-event-id'] = String(this.lastId);
    let settled = false;
    const retry = () => {
      if (settled) return;
      settled = true;
      this.#req = undefined;
      this.#schedule(this.#options.reconnectMs ?? 200);
    };
    const req = request(this.#options.url, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        this.problems.push(`HTTP ${res.statusCode}`);
        res.resume();
        res.on('end', retry);
        return;
      }
      this.connects += 1;
      this.connected = true;
      res.on('close', () => {
        this.connected = false;
      });
      const { random, maxLifeMs, chaos } = this.#options;
      if (random && maxLifeMs && (chaos?.() ?? true)) {
        const life = 1 + random() * maxLifeMs;
        const drop = setTimeout(() => {
          if (chaos && !chaos()) return;
          this.drops += 1;
          req.destroy();
        }, life);
        res.on('close', () => clearTimeout(drop));
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          this.#frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('close', retry);
      res.on('error', retry);
    });
    req.on('error', retry);
    req.end();
    this.#req = req;
  }

  #frame(frame: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (event === 'resync') {
      this.resyncs += 1;
      return;
    }
    if (event === 'end') {
      try {
        this.ended = JSON.parse(data.join('\n')) as { reason?: string };
      } catch {
        this.ended = {};
        this.problems.push(`end event with data ${data.join('\n').slice(0, 80)}`);
      }
      this.#req?.destroy();
      return;
    }
    if (event !== 'snapshot') return;
    const n = Number(id);
    if (id === undefined || !Number.isSafeInteger(n)) {
      this.problems.push(`snapshot event without an integer id: ${String(id)}`);
      return;
    }
    if (this.lastId !== undefined && n <= this.lastId)
      this.outOfOrder.push({ previous: this.lastId, id: n });
    this.lastId = n;
    try {
      this.events.push({ id: n, data: JSON.parse(data.join('\n')) as ReceivedEvent['data'] });
    } catch {
      this.problems.push(`snapshot ${n} with data that is not JSON`);
    }
  }
}
