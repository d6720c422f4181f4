/**
 * Issue 4: what `@jobwatch/client` costs on top of a bare `fetch` + `JSON.parse`, and how
 * well token refreshes are shared.
 *
 * Both variants GET the same job from an in-process simulator (manual clock, so the job
 * never changes) with the token in a header, in interleaved samples; the figure is the
 * median of the per-pair overheads `(client − bare) / bare`. The client's share covers ky,
 * the per-attempt timeout, error-body checks, schema validation and the id check.
 */
import { createAdminClient } from '@jobwatch/client';
import { startSimulator } from '@jobwatch/simulator';
import { type Benchmark, now, percentile, row } from '../harness.js';

const bench: Benchmark = {
  name: 'client',
  issue: 4,
  async run({ full }) {
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

      const perSample = full ? 200 : 50;
      const samples = full ? 40 : 12;
      const time = async (fn: () => Promise<unknown>) => {
        const start = now();
        for (let i = 0; i < perSample; i++) await fn();
        return ((now() - start) * 1000) / perSample; // µs per request
      };
      for (let i = 0; i < perSample * 2; i++) {
        await bare();
        await viaClient();
      }
      const bareUs: number[] = [];
      const clientUs: number[] = [];
      for (let s = 0; s < samples; s++) {
        // Alternate the order so neither variant always runs on a warmer socket.
        if (s % 2 === 0) {
          bareUs.push(await time(bare));
          clientUs.push(await time(viaClient));
        } else {
          clientUs.push(await time(viaClient));
          bareUs.push(await time(bare));
        }
      }
      const overhead = percentile(
        clientUs.map((c, i) => (c - (bareUs[i] as number)) / (bareUs[i] as number)),
        50,
      );

      // Many calls at once, across a token expiry: one generateToken, however many callers.
      const concurrent = full ? 1000 : 200;
      sim.advance(61_000);
      const before = sim.stats().byRoute.generateToken;
      const start = now();
      await Promise.all(Array.from({ length: concurrent }, () => client.getJob(id)));
      const burstMs = now() - start;
      const refreshes = sim.stats().byRoute.generateToken - before;

      return [
        row('client', 'getJob overhead (÷ bare fetch + JSON.parse)', overhead, '×', {
          atMost: 0.5,
        }),
        row('client', 'getJob, sequential (median)', percentile(clientUs, 50), 'µs/req'),
        row('client', 'bare fetch, sequential (median)', percentile(bareUs, 50), 'µs/req'),
        row(
          'client',
          `getJob, ${concurrent} concurrent across a token expiry`,
          (concurrent * 1000) / burstMs,
          'req/s',
        ),
        row(
          'client',
          `generateToken requests for ${concurrent} concurrent calls`,
          refreshes,
          'req',
          {
            atMost: 1,
          },
        ),
      ];
    } finally {
      await sim.close();
    }
  },
};

export default bench;
