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
