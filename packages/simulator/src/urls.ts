import type { GpTask } from './gp-tasks.js';
import type { Contexts } from './routes.js';

/** The URLs of the simulated deployment's roots and of the sister sources' jobs. */
export interface SourceUrls {
  /** `<origin>/<serverContext>/admin`. */
  readonly serverAdmin: string;
  /** `<origin>/<serverContext>/rest/services`. */
  readonly rest: string;
  /** `<origin>/<portalContext>`. */
  readonly portal: string;
  serverJob(jobid: string): string;
  task(task: Pick<GpTask, 'folder' | 'service' | 'name'>): string;
  gpJob(task: Pick<GpTask, 'folder' | 'service' | 'name'>, jobId: string): string;
  itemStatus(job: {
    readonly username: string;
    readonly itemId: string;
    readonly jobType: string;
    readonly id: string;
  }): string;
}

/** Builds the URLs for an origin (`http://127.0.0.1:<port>`) and the deployment's contexts. */
export function sourceUrls(origin: string, contexts: Contexts): SourceUrls {
  const serverAdmin = `${origin}/${contexts.server}/admin`;
  const rest = `${origin}/${contexts.server}/rest/services`;
  const portal = `${origin}/${contexts.portal}`;
  const task = (t: Pick<GpTask, 'folder' | 'service' | 'name'>) =>
    `${rest}/${[t.folder, t.service].filter(Boolean).map(encodeURIComponent).join('/')}/GPServer/${encodeURIComponent(t.name)}`;
  return {
    serverAdmin,
    rest,
    portal,
    serverJob: (jobid) => `${serverAdmin}/system/jobs/${jobid}`,
    task,
    gpJob: (t, jobId) => `${task(t)}/jobs/${jobId}`,
    itemStatus: (job) =>
      `${portal}/sharing/rest/content/users/${encodeURIComponent(job.username)}/items/${job.itemId}/status?${new URLSearchParams({ jobType: job.jobType, jobId: job.id })}`,
  };
}
