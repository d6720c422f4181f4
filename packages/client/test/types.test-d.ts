import type { Job, JobId, Service, ServiceList, SiteInfo } from '@jobwatch/schema';
import { expectTypeOf } from 'vitest';
import {
  type AdminClient,
  type ArcGISError,
  type AuthError,
  createAdminClient,
  type ErrorCodeValue,
  type JobwatchError,
  type StartedJob,
  type TransportError,
} from '../src/index.js';

declare const client: AdminClient;
const service = { serviceName: 'Hydrants', type: 'MapServer' } satisfies Service;

expectTypeOf(createAdminClient).returns.toEqualTypeOf<AdminClient>();

// async: true → StartedJob; otherwise void
expectTypeOf(
  client.startService('A.MapServer', { async: true }),
).resolves.toEqualTypeOf<StartedJob>();
expectTypeOf(client.startService('A.MapServer')).resolves.toEqualTypeOf<void>();
expectTypeOf(client.startService('A.MapServer', { async: false })).resolves.toEqualTypeOf<void>();
expectTypeOf(
  client.stopService('A.MapServer', { async: true }),
).resolves.toEqualTypeOf<StartedJob>();
expectTypeOf(client.stopService('A.MapServer', {})).resolves.toEqualTypeOf<void>();
expectTypeOf(
  client.editService('A.MapServer', service, { async: true }),
).resolves.toEqualTypeOf<StartedJob>();
expectTypeOf(client.editService('A.MapServer', service)).resolves.toEqualTypeOf<void>();
expectTypeOf(
  client.deleteServices(['A.MapServer'], { async: true }),
).resolves.toEqualTypeOf<StartedJob>();
expectTypeOf(client.deleteServices(['A.MapServer'])).resolves.toEqualTypeOf<void>();
expectTypeOf(client.createBackup({ store: 'S' })).resolves.toEqualTypeOf<StartedJob>();
expectTypeOf(
  client.operation('services/x', { async: true, n: 1 }),
).resolves.toEqualTypeOf<StartedJob>();
expectTypeOf(client.operation('services/x', { n: 1 })).resolves.toEqualTypeOf<unknown>();
expectTypeOf(client.operation('services/x')).resolves.toEqualTypeOf<unknown>();

// reads
expectTypeOf(client.getJob('j1')).resolves.toEqualTypeOf<Job>();
expectTypeOf(client.getJobByUrl('https://h/a/admin/jobs/j1')).resolves.toEqualTypeOf<Job>();
expectTypeOf(client.listJobs()).resolves.toEqualTypeOf<JobId[]>();
expectTypeOf(client.getSiteInfo()).resolves.toEqualTypeOf<SiteInfo>();
expectTypeOf(client.listServices({ folder: 'F' })).resolves.toEqualTypeOf<ServiceList>();
expectTypeOf(client.getService({ name: 'A', type: 'MapServer' })).resolves.toEqualTypeOf<Service>();

// a started job's id is a validated JobId
expectTypeOf<StartedJob['jobid']>().toEqualTypeOf<JobId>();

// errors share one base with a stable code
expectTypeOf<TransportError>().toExtend<JobwatchError>();
expectTypeOf<AuthError['arcgisCode']>().toEqualTypeOf<number | undefined>();
expectTypeOf<ArcGISError['messages']>().toEqualTypeOf<readonly string[]>();
expectTypeOf<JobwatchError['code']>().toEqualTypeOf<ErrorCodeValue>();

// async must be the literal true for a StartedJob; a plain boolean is refused
declare const flag: boolean;
// @ts-expect-error a boolean that may be true cannot pick the overload
client.startService('A.MapServer', { async: flag });
// @ts-expect-error createBackup needs a store
client.createBackup({});
// @ts-expect-error CallOptions.timeout is a number
client.getJob('j1', { timeout: '5s' });

// Jobs of every source: a reference or a URL in; a GP job's reference out of submitGpJob.
import type { GpJobRef, JobRef, ServerJobRef } from '@jobwatch/schema';
import type { GpSubmitted, SourceJobRead } from '../src/index.js';

expectTypeOf(client.readJobRef).parameter(0).toEqualTypeOf<JobRef | string>();
expectTypeOf(client.readJobRef).returns.resolves.toEqualTypeOf<SourceJobRead>();
expectTypeOf(client.submitGpJob).returns.resolves.toEqualTypeOf<GpSubmitted>();
expectTypeOf<GpSubmitted['ref']>().toEqualTypeOf<GpJobRef>();
expectTypeOf(client.startServerJob).returns.resolves.toEqualTypeOf<ServerJobRef>();
// @ts-expect-error only GP jobs have a cancel operation
client.cancelGpJob({ source: 'server', adminUrl: 'https://h/arcgis/admin', jobid: 'j1' });
