import { expectTypeOf } from 'vitest';
import {
  type Job,
  type JobHandle,
  type JobId,
  type JobMessage,
  type JobMessageInput,
  type JobOutcome,
  type JobResult,
  type JobStatusKind,
  type JobStatusValue,
  type KnownJobStatus,
  type ParseJobOptions,
  parseJob,
  parseJobId,
  parseService,
  resultObject,
  type SafeParseResult,
  type SchemaErrorCode,
  type SchemaWarning,
  type Service,
  type ServiceExtension,
  type Snapshot,
  safeParseJob,
  safeParseJobId,
  type TokenResponse,
} from '../src/index.js';

// The status union: exactly the nine known values, plus any string kept verbatim.
expectTypeOf<KnownJobStatus>().toEqualTypeOf<
  | 'SUBMITTED'
  | 'EXECUTING'
  | 'CANCELLING'
  | 'CANCELLED'
  | 'FAILED'
  | 'COMPLETED'
  | 'UNAVAILABLE'
  | 'TIMED OUT'
  | 'ERROR'
>();
expectTypeOf<Job['status']>().toEqualTypeOf<JobStatusValue>();
expectTypeOf<KnownJobStatus>().toExtend<JobStatusValue>();
expectTypeOf<string>().toExtend<JobStatusValue>();
expectTypeOf<JobStatusKind>().toEqualTypeOf<'terminal' | 'passing' | 'unknown'>();
expectTypeOf<JobOutcome>().toEqualTypeOf<'succeeded' | 'failed' | 'cancelled' | 'none'>();
expectTypeOf<SchemaErrorCode>().toEqualTypeOf<'SCHEMA_INVALID' | 'INVALID_JOB_ID'>();

// A switch over the known statuses is checked for exhaustiveness by the compiler.
export function label(status: KnownJobStatus): string {
  switch (status) {
    case 'SUBMITTED':
    case 'EXECUTING':
    case 'CANCELLING':
    case 'UNAVAILABLE':
      return 'running';
    case 'COMPLETED':
      return 'done';
    case 'FAILED':
    case 'TIMED OUT':
    case 'ERROR':
      return 'failed';
    case 'CANCELLED':
      return 'cancelled';
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

// Exact about jobid and status; every other field may be missing or null.
expectTypeOf<Job['jobid']>().toEqualTypeOf<string>();
expectTypeOf<Job['starttime']>().toEqualTypeOf<number | null | undefined>();
expectTypeOf<Job['endtime']>().toEqualTypeOf<number | null | undefined>();
expectTypeOf<Job['username']>().toEqualTypeOf<string | null | undefined>();
expectTypeOf<Job['result']>().toEqualTypeOf<JobResult | string | null | undefined>();
expectTypeOf<Job['messages']>().toEqualTypeOf<JobMessageInput[] | null | undefined>();
expectTypeOf<'Service failed to start.'>().toExtend<JobMessageInput>();
expectTypeOf<{ type: 'esriJobMessageTypeError'; description: 'x' }>().toExtend<JobMessageInput>();
expectTypeOf<{ type: null }>().toExtend<JobMessageInput>();
expectTypeOf<42>().not.toExtend<JobMessageInput>();
expectTypeOf(resultObject).returns.toEqualTypeOf<JobResult | undefined>();
// `{}` lacks the required fields, so it is no Job; it does satisfy the optional ones.
expectTypeOf<{}>().not.toExtend<Pick<Job, 'status'>>();
expectTypeOf<{}>().toExtend<Pick<Job, 'result' | 'messages' | 'starttime'>>();
expectTypeOf<NonNullable<JobResult['service']>>().toEqualTypeOf<Service>();

// Service fields keep their ArcGIS types; type properties may be numbers or booleans too.
expectTypeOf<Service['properties']>().toEqualTypeOf<
  Record<string, string | number | boolean | null> | null | undefined
>();
expectTypeOf<ServiceExtension['enabled']>().toEqualTypeOf<string | boolean | null | undefined>();
expectTypeOf<'MapServer'>().toExtend<Service['type']>();
expectTypeOf<'KnowledgeGraphServer'>().toExtend<Service['type']>();
expectTypeOf<TokenResponse['expires']>().toEqualTypeOf<number | string>();
expectTypeOf<JobHandle['jobID']>().toEqualTypeOf<string | null | undefined>();

// Parse results carry warnings; snapshots carry messages, a reason and warnings, all optional.
expectTypeOf<SchemaWarning>().toEqualTypeOf<{
  readonly pointer: string;
  readonly expected: string;
  readonly found: string;
}>();
expectTypeOf<Extract<SafeParseResult<Job>, { success: true }>['warnings']>().toEqualTypeOf<
  readonly SchemaWarning[]
>();
expectTypeOf<Snapshot['reason']>().toEqualTypeOf<string | undefined>();
expectTypeOf<NonNullable<Snapshot['messages']>[number]>().toEqualTypeOf<JobMessage>();
expectTypeOf<JobMessage['severity']>().toEqualTypeOf<'error' | 'warning' | 'info' | undefined>();
expectTypeOf(safeParseJobId).returns.toEqualTypeOf<SafeParseResult<JobId>>();

// JobId is a brand: a plain string is not one, but a JobId is a string.
expectTypeOf<string>().not.toExtend<JobId>();
expectTypeOf<JobId>().toExtend<string>();
expectTypeOf(parseJobId).returns.toEqualTypeOf<JobId>();
// @ts-expect-error a string literal is not a validated job id
export const unchecked: JobId = 'j1';

// Parsers return the static types.
expectTypeOf(parseJob).parameter(0).toEqualTypeOf<unknown>();
expectTypeOf(parseJob).parameter(1).toEqualTypeOf<ParseJobOptions | undefined>();
expectTypeOf(parseJob).returns.toEqualTypeOf<Job>();
expectTypeOf(parseService).returns.toEqualTypeOf<Service>();
expectTypeOf(safeParseJob).returns.toEqualTypeOf<SafeParseResult<Job>>();

// Snapshot: status and job are null before the first body.
expectTypeOf<Snapshot['status']>().toEqualTypeOf<JobStatusValue | null>();
expectTypeOf<null>().toExtend<Snapshot['status']>();
expectTypeOf<Snapshot['job']>().toEqualTypeOf<Job | null>();
expectTypeOf<Snapshot['lastPolled']>().toEqualTypeOf<number | null>();
expectTypeOf<Snapshot['kind']>().toEqualTypeOf<JobStatusKind | 'pending'>();
expectTypeOf<Snapshot['outcome']>().toEqualTypeOf<JobOutcome>();
expectTypeOf<Snapshot['version']>().toEqualTypeOf<1>();

// Job references: a union on source; the readers of each source return their body types.
import type {
  GpJob,
  ItemStatus,
  JobRef,
  JobSource,
  ServerJob,
  SnapshotResult,
  SnapshotStep,
} from '../src/index.js';
import { parseGpJob, parseItemStatus, parseJobRef, parseServerJob } from '../src/index.js';

expectTypeOf(parseJobRef).returns.toEqualTypeOf<JobRef>();
expectTypeOf<JobRef['source']>().toEqualTypeOf<JobSource>();
declare const ref: JobRef;
if (ref.source === 'gp') expectTypeOf(ref.taskUrl).toEqualTypeOf<string>();
if (ref.source === 'item') expectTypeOf(ref.jobType).toEqualTypeOf<string>();
// @ts-expect-error only a GP reference has a task URL
ref.taskUrl;
expectTypeOf(parseServerJob).returns.toEqualTypeOf<ServerJob>();
expectTypeOf(parseGpJob).returns.toEqualTypeOf<GpJob>();
expectTypeOf(parseItemStatus).returns.toEqualTypeOf<ItemStatus>();
// Snapshot additions are optional: snapshots stored before them still type.
expectTypeOf<Snapshot['source']>().toEqualTypeOf<JobSource | undefined>();
expectTypeOf<Snapshot['progress']>().toEqualTypeOf<number | null | undefined>();
expectTypeOf<Snapshot['step']>().toEqualTypeOf<SnapshotStep | undefined>();
expectTypeOf<Snapshot['results']>().toEqualTypeOf<SnapshotResult[] | undefined>();
