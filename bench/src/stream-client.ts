/**
 * The benchmarks' event-stream client and job registration, as a widget and an operator's
 * script use the daemon: raw HTTP, the API key as a Bearer token.
 */
import { request } from 'node:http';

/** The API key every benchmark daemon is configured with. */
export const KEY = 'bench-key-0123456789abcdef';

/** An open event stream. */
export interface Client {
  readonly close: () => void;
}

/** A raw event-stream client: records arrival minus detection for every snapshot event. */
export function openClient(
  url: string,
  latencies: number[] | undefined,
  onEvent: (jobid: string, terminal: boolean) => void,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { authorization: `Bearer ${KEY}`, accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`events: HTTP ${res.statusCode}`));
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const arrived = Date.now();
          buffer += chunk;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
            const data = frame.split('\n').find((l) => l.startsWith('data: '));
            if (!data || !frame.includes('event: snapshot')) continue;
            const s = JSON.parse(data.slice(6)) as {
              jobid: string;
              terminal: boolean;
              lastPolled: number | null;
            };
            if (latencies && s.lastPolled) latencies.push(arrived - s.lastPolled);
            onEvent(s.jobid, s.terminal);
          }
        });
        resolve({ close: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** `POST` JSON with the API key; throws unless 200 or 201. */
export async function post(url: string, body: object): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`POST ${url}: HTTP ${res.status}`);
  await res.arrayBuffer();
}
