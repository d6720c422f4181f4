/** The public types as a TypeScript consumer sees them. */
import type { Snapshot } from '@jobwatch/schema';
import type { Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type JobFilterValue,
  type JobwatchJob,
  type JobwatchJobs,
  type JobwatchStatus,
  type Messages,
  type SnapshotEvent,
  type SnapshotSource,
  type SourceProblem,
  type SourceProblemEvent,
  sourceFor,
  type TokenProvider,
} from '../src/index.js';

describe('public types', () => {
  it('maps tag names to element classes', () => {
    expectTypeOf<HTMLElementTagNameMap['jobwatch-status']>().toEqualTypeOf<JobwatchStatus>();
    expectTypeOf<HTMLElementTagNameMap['jobwatch-job']>().toEqualTypeOf<JobwatchJob>();
    expectTypeOf<HTMLElementTagNameMap['jobwatch-jobs']>().toEqualTypeOf<JobwatchJobs>();
  });

  it('takes any Observable<Snapshot> as a source, and nothing else', () => {
    expectTypeOf<Observable<Snapshot>>().toExtend<SnapshotSource>();
    expectTypeOf<Observable<string>>().not.toExtend<SnapshotSource>();
    expectTypeOf<JobwatchJob['source']>().toEqualTypeOf<SnapshotSource | undefined>();
  });

  it('types events, messages, filters and providers', () => {
    expectTypeOf<SnapshotEvent['detail']>().toEqualTypeOf<Snapshot>();
    expectTypeOf<JobwatchStatus['messages']>().toEqualTypeOf<Partial<Messages> | undefined>();
    expectTypeOf<JobFilterValue>().toEqualTypeOf<
      'all' | 'running' | 'succeeded' | 'failed' | 'cancelled'
    >();
    expectTypeOf<() => string>().toExtend<TokenProvider>();
    expectTypeOf(sourceFor).returns.toEqualTypeOf<SnapshotSource | undefined>();
    expectTypeOf<SourceProblemEvent['detail']>().toEqualTypeOf<SourceProblem>();
    expectTypeOf<JobwatchJob['problem']>().toEqualTypeOf<SourceProblem | undefined>();
    expectTypeOf<JobwatchJobs['problem']>().toEqualTypeOf<SourceProblem | undefined>();
    expectTypeOf<SourceProblem['final']>().toEqualTypeOf<boolean>();
  });
});
