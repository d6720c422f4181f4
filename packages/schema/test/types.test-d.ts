import { expectTypeOf } from 'vitest';
import {
  type Job,
  type JobHandle,
  type JobId,
  type JobOutcome,
  type JobResult,
  type JobStatusKind,
  type JobStatusValue,
  type KnownJobStatus,
  parseJob,
  parseJobId,
  parseService,
  type SafeParseResult,
  type SchemaErrorCode,
  type Service,
  type ServiceExtension,
  type Snapshot,
  safeParseJob,
  type TokenResponse,
} from '../src/index.js';

// The status union: exactly the eight known values, plus any string kept verbatim.
expectTypeOf<KnownJobStatus>().toEqualTypeOf<
  | 'SUBMITTED'
  | 'EXECUTING'
  | 'CANCELLING'
  | 'CANCELLED'
  | 'FAILED'
  | 'COMPLETED'
  | 'UNAVAILABLE'
  | 'TIMED OUT'
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
      return 'failed';
    case 'CANCELLED':
      return 'cancelled';
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

// Required and optional job fields.
expectTypeOf<Job['jobid']>().toEqualTypeOf<string>();
expectTypeOf<Job['starttime']>().toEqualTypeOf<number>();
expectTypeOf<Job['endtime']>().toEqualTypeOf<number>();
expectTypeOf<{ result?: JobResult }>().toExtend<Pick<Job, 'result'>>();
expectTypeOf<{ messages?: string[] }>().toExtend<Pick<Job, 'messages'>>();
expectTypeOf<Job['result']>().toEqualTypeOf<JobResult | undefined>();
expectTypeOf<Job['messages']>().toEqualTypeOf<string[] | undefined>();
// `{}` lacks the required fields, so it is no Job; it does satisfy the optional ones.
expectTypeOf<{}>().not.toExtend<Pick<Job, 'status'>>();
expectTypeOf<{}>().toExtend<Pick<Job, 'result' | 'messages'>>();
expectTypeOf<NonNullable<JobResult['service']>>().toEqualTypeOf<Service>();

// Service fields keep their ArcGIS types.
expectTypeOf<Service['properties']>().toEqualTypeOf<Record<string, string> | undefined>();
expectTypeOf<ServiceExtension['enabled']>().toEqualTypeOf<string | boolean | undefined>();
expectTypeOf<'MapServer'>().toExtend<Service['type']>();
expectTypeOf<'KnowledgeGraphServer'>().toExtend<Service['type']>();
expectTypeOf<TokenResponse['expires']>().toEqualTypeOf<number | string>();
expectTypeOf<JobHandle['jobID']>().toEqualTypeOf<string | undefined>();

// JobId is a brand: a plain string is not one, but a JobId is a string.
expectTypeOf<string>().not.toExtend<JobId>();
expectTypeOf<JobId>().toExtend<string>();
expectTypeOf(parseJobId).returns.toEqualTypeOf<JobId>();
// @ts-expect-error a string literal is not a validated job id
export const unchecked: JobId = 'j1';

// Parsers return the static types.
expectTypeOf(parseJob).parameter(0).toEqualTypeOf<unknown>();
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
