/**
 * `@jobwatch/rx`: ArcGIS Enterprise admin job ids in, shared, self-pacing, validated
 * `Observable<Snapshot>` streams out. All pacing, sharing, request budgets, error policy
 * and time limits of jobwatch live here; the daemon and the widget only subscribe.
 * Browser-safe: no `node:` modules, no `process`.
 *
 * @module @jobwatch/rx
 * @packageDocumentation
 */

/** The daemon's event types and `ready` data, from the protocol in `@jobwatch/schema`. */
export { DaemonEvent, type DaemonEventValue, type DaemonReadyData } from '@jobwatch/schema';
export { type BudgetOptions, type BudgetStats, DEFAULT_BUDGET, RequestBudget } from './budget.js';
export { isNoAnswer } from './contact.js';
export {
  defaultWatcher,
  sharedWatcher,
  type WaitForJobOptions,
  waitForJob,
  watchAll,
  watchJob,
  watchJobs,
} from './convenience.js';
export {
  DaemonConnection,
  type DaemonConnectionValue,
  type DaemonStreamState,
  type EventSourceConstructor,
  type EventSourceLike,
  type EventSourceLikeInit,
  type FromDaemonOptions,
  fromDaemon,
} from './daemon.js';
export {
  JOB_FAILED,
  JobFailedError,
  UnknownStatusError,
  UnreachableError,
  WaitTimeoutError,
} from './errors.js';
export { type EtaReading, makeEta, readEta } from './eta.js';
export type { UnknownStatusEvent, UnknownStatusPolicy } from './loop.js';
export {
  ADMIN_SOURCE,
  adminJobKind,
  DEFAULT_MODEL,
  DurationEstimate,
  DurationModel,
  type DurationModelChange,
  type DurationModelJSON,
  type DurationModelKindJSON,
  type DurationModelOptions,
  type JobKind,
  jobKindKey,
  normalCdf,
  normalQuantile,
  parseJobKindKey,
} from './model.js';
export {
  DEFAULT_PACING,
  denseStart,
  type LearnedPacingOptions,
  learnedPollDelay,
  nextPollDelay,
  type PacingOptions,
  type ResolvedPacing,
  resolvePacing,
  troubleDelay,
} from './pacing.js';
export {
  DEFAULT_SKETCH_WINDOW,
  DurationSketch,
  type DurationSketchJSON,
  type DurationSketchOptions,
  SKETCH_MAX_BINS,
  SKETCH_MAX_DURATION,
  SKETCH_MIN_DURATION,
  SKETCH_RELATIVE_ACCURACY,
} from './sketch.js';
export { longTimer, MAX_TIMER_DELAY, scheduleAfter } from './timers.js';
export {
  createWatcher,
  type WatchAllOptions,
  type Watcher,
  type WatcherOptions,
  type WatchOptions,
} from './watcher.js';
