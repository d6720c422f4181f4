/**
 * Issue 4: what `@jobwatch/client` costs on top of a bare `fetch` + `JSON.parse`, and how
 * well token refreshes are shared.
 *
 * 1. Over HTTP: both variants GET the same job from an in-process simulator (manual clock,
 *    so the job never changes) with the token in a header, alternating request by request;
 *    the figures are medians of the single-request times, robust to a busy machine.
 * 2. In memory: the same call against a fetch that answers at once, so only the client's
 *    own work is timed (building the request, the per-attempt timeout, error-body checks,
 *    schema validation, the id check). `pnpm bench --only rx-cost` shows its CPU per poll
 *    over real HTTP beside a bare fetch loop.
 * 3. A burst of concurrent calls across a token expiry: how many `generateToken` requests.
 * 4. What a GET through ky costs over calling the same fetch directly (in memory): why the
 *    client's GETs bypass ky.
 */
import { createAdminClient } from '@jobwatch/client';
import { startSimulator } from '@jobwatch/simulator';
import ky from 'ky';
import { type Benchmark, now, percentile, row } from '../harness.js';

const JOB = {
  jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
  status: 'EXECUTING',
  starttime: 1635961542583,
  endtime: 0,
  updatedtime: 1635961542589,
  operationURI: '/arcgis/admin/services/FireWatchWeather.MapServer/edit',
  username: 'serviceAdmin',
};

/** Median µs of one call, timing each call alone; `a` and `b` alternate call by call. */
async function alternate(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  calls: number,
): Promise<[number, number]> {
  const ta: number[] = [];
  const tb: number[] = [];
  const once = async (fn: () => Promise<unknown>, into: number[]) => {
    const start = now();
    await fn();
    into.push((now() - start) * 1000);
  };
  for (let i = 0; i < calls; i++) {
    if (i % 2 === 0) {
      await once(a, ta);
      await once(b, tb);
    } else {
      await once(b, tb);
      await once(a, ta);
    }
  }
  return [percentile(ta, 50), percentile(tb, 50)];
}

const bench: Benchmark = {
  name: 'client',
  issue: 4,
  async run({ full }) {
    const calls = full ? 4000 : 800;
    const rows = [];

    // 1. Over HTTP, against the simulator.
    const sim = await startSimulator({ clock: 'manual', seed: 4, tokenTtlMs: 60_000 });
    try {
      const client = createAdminClient({
        url: sim.adminUrl,
        auth: { type: 'credentials', username: 'admin', password: 'admin' },
        now: () => sim.now(),
      });
      const token = sim.issueToken('admin', 3_600_000_000);
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000_000 });
      const url = `${sim.adminUrl}/jobs/${id}?f=json`;
      const headers = { 'x-esri-authorization': `Bearer ${token}` };
      const bare = async () => {
        const response = await fetch(url, { headers });
        return JSON.parse(await response.text()) as { jobid: string };
      };
      const viaClient = () => client.getJob(id);
      if ((await bare()).jobid !== id || (await viaClient()).jobid !== id) {
        throw new Error('the simulator did not answer the job');
      }
      await alternate(bare, viaClient, 200); // warm-up: sockets, JIT
      const [bareUs, clientUs] = await alternate(bare, viaClient, calls);
      rows.push(
        row('client', 'getJob over HTTP (median)', clientUs, 'µs/req'),
        row('client', 'bare fetch + JSON.parse over HTTP (median)', bareUs, 'µs/req'),
        row('client', 'getJob latency added over bare fetch', clientUs - bareUs, 'µs/req', {
          atMost: 1000,
        }),
        row('client', 'getJob latency ÷ bare fetch (local loopback)', clientUs / bareUs, '×'),
      );

      // 3. A burst across a token expiry: one generateToken, however many callers.
      const concurrent = full ? 1000 : 200;
      sim.advance(61_000);
      const before = sim.stats().byRoute.generateToken;
      const start = now();
      await Promise.all(Array.from({ length: concurrent }, () => client.getJob(id)));
      const burstMs = now() - start;
      rows.push(
        row(
          'client',
          `getJob, ${concurrent} concurrent across a token expiry`,
          (concurrent * 1000) / burstMs,
          'req/s',
        ),
        row(
          'client',
          `generateToken requests for ${concurrent} concurrent calls`,
          sim.stats().byRoute.generateToken - before,
          'req',
          { atMost: 1 },
        ),
      );
    } finally {
      await sim.close();
    }

    // 2. In memory: the client's own work per call.
    const text = JSON.stringify(JOB);
    const memoryFetch = (async () => new Response(text)) as typeof fetch;
    const memoryClient = createAdminClient({
      url: 'https://gis.example.com/arcgis/admin',
      auth: { type: 'token', token: 'bench-token' },
      fetch: memoryFetch,
    });
    const rawParse = async () => JSON.parse(await (await memoryFetch('x')).text());
    const getJob = () => memoryClient.getJob(JOB.jobid);
    await alternate(rawParse, getJob, 500);
    const [rawUs, clientCpuUs] = await alternate(rawParse, getJob, calls * 2);
    rows.push(
      row(
        'client',
        'getJob client work, in-memory fetch (median)',
        clientCpuUs - rawUs,
        'µs/call',
        {
          atMost: 500,
        },
      ),
    );

    // 4. What ky would add to each poll: a GET through ky (retries, timeout and HTTP errors
    // off, as the client creates it) against calling the same fetch directly. The client
    // sends its GETs the direct way; the README's "Why GETs bypass ky" quotes this row.
    const kyGet = ky.create({
      retry: 0,
      throwHttpErrors: false,
      timeout: false,
      fetch: memoryFetch,
    });
    const jobUrl = `https://gis.example.com/arcgis/admin/jobs/${JOB.jobid}?f=json`;
    const init = { headers: { 'x-esri-authorization': 'Bearer bench-token' } };
    const direct = async () => (await memoryFetch(jobUrl, init)).text();
    const viaKy = async () => (await kyGet(jobUrl, init)).text();
    await alternate(direct, viaKy, 500);
    const [directUs, kyUs] = await alternate(direct, viaKy, calls * 2);
    rows.push(
      row(
        'client',
        'a GET through ky, added over a direct fetch (median)',
        kyUs - directUs,
        'µs/req',
      ),
    );
    return rows;
  },
};

export default bench;
