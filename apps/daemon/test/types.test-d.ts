import { expectTypeOf, test } from 'vitest';
import {
  type ExitCodeValue,
  type JobView,
  type Store,
  type StoredEvent,
  worstExitCode,
} from '../src/index.js';

test('exit codes are a closed union', () => {
  expectTypeOf<ExitCodeValue>().toEqualTypeOf<0 | 1 | 2 | 3 | 4 | 5 | 130>();
  expectTypeOf(worstExitCode).parameter(0).toEqualTypeOf<Iterable<ExitCodeValue>>();
});

test('the store is asynchronous throughout, so another backend can replace SQLite', () => {
  expectTypeOf<ReturnType<Store['recordSnapshot']>>().toEqualTypeOf<
    Promise<StoredEvent | undefined>
  >();
  expectTypeOf<ReturnType<Store['eventsSince']>>().resolves.toHaveProperty('kind');
  expectTypeOf<JobView['state']>().toEqualTypeOf<'watching' | 'finished' | 'stopped' | 'failed'>();
});
