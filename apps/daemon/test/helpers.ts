import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Job, makeSnapshot, type Snapshot } from '@jobwatch/schema';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'jobwatch-test-'): {
  dir: string;
  cleanup: () => void;
  file: (name: string, text: string) => string;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    file: (name, text) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
  };
}

/** A job body as the admin API returns it. */
export function job(
  jobid: string,
  status: string,
  updatedtime: number,
  extra: Partial<Job> = {},
): Job {
  const ended = ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED OUT'].includes(status);
  return {
    jobid,
    status,
    starttime: 1_700_000_000_000,
    endtime: ended ? updatedtime : 0,
    updatedtime,
    operationURI: '/arcgis/admin/services/Roads.MapServer/edit',
    username: 'admin',
    ...extra,
  };
}

/** A snapshot of a job in `status`, changed at `at`. */
export function snap(
  jobid: string,
  status: string,
  at: number,
  deployment = 'default',
  stale = false,
): Snapshot {
  return makeSnapshot({
    deployment,
    jobid,
    job: job(jobid, status, at),
    firstSeen: 1_700_000_000_000,
    lastPolled: at,
    lastChanged: at,
    stale,
  });
}

/** One parsed Server-Sent Event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/**
 * A minimal event-stream reader written from the SSE specification: lines split on LF,
 * `field: value`, comments start with `:`, an empty line dispatches. The stream's own
 * bookkeeping (`ready`, `ping`) is kept apart from `events`.
 */
export async function openSse(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const ready: SseEvent[] = [];
  let pings = 0;
  let retry: number | undefined;
  const waiters: Array<() => void> = [];
  let ended = false;
  const done = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let current: Partial<SseEvent> & { data?: string } = {};
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
          if (line === '') {
            if (current.data !== undefined) {
              const event = {
                event: current.event ?? 'message',
                data: current.data,
                ...(current.id !== undefined ? { id: current.id } : {}),
              };
              if (event.event === 'ping') pings += 1;
              else if (event.event === 'ready') ready.push(event);
              else events.push(event);
              for (const w of waiters.splice(0)) w();
            }
            current = {};
            continue;
          }
          if (line.startsWith(':')) {
            comments.push(line);
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data')
            current.data = current.data === undefined ? value : `${current.data}\n${value}`;
          else if (field === 'id') current.id = value;
          else if (field === 'event') current.event = value;
          else if (field === 'retry') retry = Number(value);
        }
      }
    } catch {
      // aborted
    }
    ended = true;
    for (const w of waiters.splice(0)) w();
  })();
  return {
    res,
    events,
    comments,
    /** The `ready` events received (one per connection). */
    ready,
    get pings() {
      return pings;
    },
    get retry() {
      return retry;
    },
    get ended() {
      return ended;
    },
    /** Resolves once `predicate` holds over the events received (or the stream ended). */
    async until(predicate: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
      while (!predicate(events)) {
        if (ended)
          throw new Error(
            `stream ended; got ${JSON.stringify(events.map((e) => [e.id, e.event]))}`,
          );
        await new Promise<void>((r) => waiters.push(r));
      }
      return events;
    },
    close() {
      controller.abort();
      return done;
    },
    done,
  };
}
