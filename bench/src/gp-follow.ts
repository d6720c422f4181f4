/**
 * One follower of the `gp` benchmark, in a process of its own so that its CPU time is its
 * own: Esri's `Job` class from `@esri/arcgis-rest-request` (its default 2-second poller, one
 * per job, as its documentation shows it) or a jobwatch watcher, following the same
 * geoprocessing jobs to their end. Reads its task from the JSON file named by its argument;
 * prints one JSON line: requests sent, CPU time, and when each job's end was seen.
 */
import { readFileSync } from 'node:fs';
import { Job } from '@esri/arcgis-rest-request';
import { createAdminClient } from '@jobwatch/client';
import { createWatcher } from '@jobwatch/rx';

/** What the parent asks of a follower: in its argument's file, then the jobs on standard input. */
export interface FollowTask {
  readonly follower: 'esri' | 'jobwatch' | 'jobwatch-budget';
  readonly token: string;
  /** The ArcGIS Server admin URL of the simulator (jobwatch's client root). */
  readonly serverAdminUrl: string;
}

/** The jobs to follow, one JSON line on standard input once the follower said `ready`. */
export type FollowJobs = ReadonlyArray<{
  readonly taskUrl: string;
  readonly jobId: string;
  readonly jobUrl: string;
}>;

/** What a follower prints. */
export interface FollowResult {
  readonly requests: number;
  readonly cpuMs: number;
  /** Epoch ms when each job's end was seen, by job id. */
  readonly ends: Record<string, number>;
  readonly errors: readonly string[];
}

const task = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as FollowTask;

// Every request either follower sends goes through the global fetch: counted here.
let requests = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
  requests++;
  return realFetch(input, init);
}) as typeof fetch;

// Esri's warning about a token given directly: once per process, not a measured cost.
(
  globalThis as { ARCGIS_REST_JS_SUPPRESS_TOKEN_WARNING?: boolean }
).ARCGIS_REST_JS_SUPPRESS_TOKEN_WARNING = true;

// Loaded and ready: the parent creates the jobs only now, so that start-up is no part of a lag.
process.stdout.write('ready\n');
const jobs = await new Promise<FollowJobs>((resolve) => {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    input += chunk;
    if (input.includes('\n'))
      resolve(JSON.parse(input.slice(0, input.indexOf('\n'))) as FollowJobs);
  });
});
process.stdin.pause();

const ends: Record<string, number> = {};
const errors: string[] = [];
// Counted from here: both libraries are loaded (static imports), so only following costs.
const cpu0 = process.cpuUsage();

async function followWithEsri(): Promise<void> {
  await Promise.all(
    jobs.map(async ({ taskUrl, jobId }) => {
      try {
        const job = await Job.fromExistingJob({
          id: jobId,
          url: taskUrl,
          authentication: task.token,
        });
        await job.waitForCompletion().catch(() => undefined); // a failed job rejects: also an end
      } catch (error) {
        errors.push(`${jobId}: ${String(error)}`);
      }
      ends[jobId] = Date.now();
    }),
  );
}

async function followWithJobwatch(budget: boolean): Promise<void> {
  const client = createAdminClient({
    url: task.serverAdminUrl,
    auth: { type: 'token', token: task.token },
  });
  // The same ceiling Esri's 2-second pollers reach together on these jobs (one request per
  // job every 2 s), or the watcher's defaults (8 in flight, 20 requests/s).
  const rate = jobs.length / 2;
  const watcher = createWatcher(client, budget ? { budget: { concurrency: 16, rate } } : {});
  await Promise.all(
    jobs.map(
      ({ jobUrl, jobId }) =>
        new Promise<void>((resolve) => {
          const sub = watcher.watchRef(jobUrl).subscribe({
            next: (s) => {
              if (s.terminal && ends[jobId] === undefined) ends[jobId] = Date.now();
            },
            error: (error) => {
              errors.push(`${jobId}: ${String(error)}`);
              ends[jobId] ??= Date.now();
              resolve();
            },
            complete: () => resolve(),
          });
          void sub;
        }),
    ),
  );
  watcher.close();
}

if (task.follower === 'esri') await followWithEsri();
else await followWithJobwatch(task.follower === 'jobwatch-budget');
const cpu = process.cpuUsage(cpu0);
const result: FollowResult = {
  requests,
  cpuMs: (cpu.user + cpu.system) / 1000,
  ends,
  errors: errors.slice(0, 5),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
