import type { Simulator } from '../src/index.js';
import { raw } from './helpers.js';

/** The options of the simulator whose transcript is kept as `fixtures/transcript-seed-42.txt`. */
export const TRANSCRIPT_OPTIONS = {
  clock: 'manual',
  seed: 42,
  startTime: 1_700_000_000_000,
  operationDurationMs: { min: 2000, max: 8000 },
  workload: { jobsPerMinute: 20, minDurationMs: 1000, maxDurationMs: 40_000 },
} as const;

/**
 * Every body a fixed sequence of requests gets, verbatim, one request per section: jobs of
 * every outcome at several moments, the job list, handles, the catalogue, and each kind of
 * error answer. The origin (its port changes per run) is written as `ORIGIN`; tokens are
 * never written. Kept as a fixture, it pins the simulator's documented output byte for byte.
 */
export async function transcript(sim: Simulator): Promise<string> {
  const token = sim.issueToken();
  const auth = { 'x-esri-authorization': `Bearer ${token}` };
  const out: string[] = [];
  const record = async (
    label: string,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) => {
    const r = await raw(`${sim.url}${path}`, init);
    const text = r.text.split(sim.url).join('ORIGIN');
    out.push(`### ${label} ${r.status} ${String(r.headers['content-type'])}\n${text}`);
    return JSON.parse(r.text.startsWith('<') ? 'null' : r.text || 'null');
  };
  const admin = new URL(sim.adminUrl).pathname;
  const form = (params: Record<string, string>) => ({
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });

  const created = [
    sim.createJob({ outcome: 'COMPLETED', durationMs: 5000 }),
    sim.createJob({ outcome: 'FAILED', durationMs: 3000, unavailableBlips: 1 }),
    sim.createJob({ outcome: 'CANCELLED', durationMs: 4000 }),
    sim.createJob({ outcome: 'TIMED OUT', durationMs: 6000 }),
    sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 7000,
      operation: `${admin}/system/disasterrecovery/stores/default/backups/create`,
    }),
    sim.createJob({
      outcome: 'FAILED',
      durationMs: 7000,
      operation: `${admin}/system/disasterrecovery/stores/default/backups/create`,
    }),
    sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 3000,
      timeline: [{ atMs: 1000, status: 'PAUSED' }],
    }),
  ];
  const service = await record('service', `${admin}/services/SampleWorldCities.MapServer?f=json`, {
    headers: auth,
  });
  const edit = await record(
    'edit handle',
    `${admin}/services/SampleWorldCities.MapServer/edit`,
    form({
      f: 'json',
      async: 'true',
      service: JSON.stringify({ ...service, description: 'Edited.' }),
    }),
  );
  const backup = await record(
    'backup handle',
    `${admin}/system/disasterrecovery/stores/default/backups/create`,
    form({ f: 'json' }),
  );
  await record(
    'sync stop',
    `${admin}/services/Hosted/Parcels.FeatureServer/stop`,
    form({ f: 'json' }),
  );
  const ids = [...created, edit.jobID as string, backup.jobid as string];
  for (const at of [0, 1500, 3500, 9000]) {
    if (at > 0) sim.advance(at - (sim.now() - TRANSCRIPT_OPTIONS.startTime));
    for (const id of ids)
      await record(`job ${id} at ${at}`, `${admin}/jobs/${id}?f=json`, { headers: auth });
  }
  sim.advance(60_000);
  const list = await record('jobs list', `${admin}/jobs?f=json`, { headers: auth });
  for (const id of list.jobs as string[])
    await record(`job ${id}`, `${admin}/jobs/${id}?f=json`, { headers: auth });
  await record('pjson', `${admin}/jobs/${created[1]}?f=pjson`, { headers: auth });
  await record('html', `${admin}/jobs/${created[0]}`, { headers: auth });
  await record('edited service', `${admin}/services/SampleWorldCities.MapServer?f=json`, {
    headers: auth,
  });
  await record('site', `${admin}?f=json`, { headers: auth });
  await record('services', `${admin}/services?f=json`, { headers: auth });

  // Error answers of each kind.
  await record('token required', `${admin}/jobs?f=json`);
  await record('invalid token', `${admin}/jobs?f=json`, {
    headers: { authorization: 'Bearer nope' },
  });
  await record('operation without token', `${admin}/services/SampleWorldCities.MapServer/start`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'f=json',
  });
  await record(
    'operation with a bad token',
    `${admin}/services/SampleWorldCities.MapServer/start`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'f=json&token=nope',
    },
  );
  await record('unknown job', `${admin}/jobs/j00000000-0000-4000-8000-000000000000?f=json`, {
    headers: auth,
  });
  await record('bad job id', `${admin}/jobs/not..an.id?f=json`, { headers: auth });
  await record('unknown service', `${admin}/services/Nope.MapServer?f=json`, { headers: auth });
  await record('unknown folder', `${admin}/services/Nope?f=json`, { headers: auth });
  await record('unknown route', `${admin}/nowhere?f=json`, { headers: auth });
  await record('bad format', `${admin}/jobs?f=xml`, { headers: auth });
  await record(
    'GET on an operation',
    `${admin}/services/SampleWorldCities.MapServer/start?f=json`,
    {
      headers: auth,
    },
  );
  await record(
    'operation on a missing service',
    `${admin}/services/Nope.MapServer/start`,
    form({ f: 'json' }),
  );
  await record(
    'bad edit',
    `${admin}/services/SampleWorldCities.MapServer/edit`,
    form({ f: 'json' }),
  );
  await record(
    'unknown store',
    `${admin}/system/disasterrecovery/stores/nope/backups/create`,
    form({ f: 'json' }),
  );
  await record(
    'bad credentials',
    `${new URL(sim.tokenUrl).pathname}?f=json&username=admin&password=wrong`,
  );
  return `${out.join('\n')}\n`;
}
