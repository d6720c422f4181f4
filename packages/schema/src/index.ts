/**
 * `@jobwatch/schema`: TypeBox schemas, static types and validators for every body jobwatch
 * reads or writes, and the one place where job statuses get their meaning. No I/O; safe in
 * browsers. The `parse*` functions run validators generated ahead of time: they compile
 * nothing and need no `'unsafe-eval'`. Only {@link validatorFor} compiles, lazily.
 *
 * @module @jobwatch/schema
 * @packageDocumentation
 */
export { CodedError, isCodedError } from './coded-error.js';
export { validatorFor } from './compile.js';
export * from './errors.js';
export * from './jobid.js';
export * from './messages.js';
export * from './operation.js';
export * from './parse.js';
export {
  ApiErrorCode,
  type ApiErrorCodeValue,
  DaemonEvent,
  type DaemonEventValue,
  DaemonPath,
  type DaemonPathValue,
  DaemonQuery,
  type DaemonQueryValue,
  daemonEventsUrl,
  type EventsUrlOptions,
  eventFrame,
  LAST_EVENT_ID_HEADER,
} from './protocol.js';
export * from './schemas/bodies.js';
export {
  type ApiErrorBody,
  ApiErrorBodySchema,
  ApiJobIdSchema,
  CodedMessageSchema,
  DaemonEndDataSchema,
  type DaemonReadyData,
  DaemonReadyDataSchema,
  type DeploymentList,
  DeploymentListSchema,
  EmptyDataSchema,
  type JobPage,
  JobPageSchema,
  JobRefSchema,
  type JobView,
  JobViewSchema,
  ProbeSchema,
  type Ticket,
  TicketSchema,
  type WatchFailure,
  WatchFailureSchema,
  type WatchJobRequest,
  WatchJobRequestSchema,
  WatchRefRequestSchema,
  type WatchRequest,
  WatchRequestSchema,
  type WatchState,
  WatchStateSchema,
  WatchUrlRequestSchema,
} from './schemas/protocol.js';
export * from './schemas/service.js';
export * from './schemas/snapshot.js';
export * from './schemas/sources.js';
export * from './service.js';
export * from './snapshot.js';
export {
  type ParseItemStatusOptions,
  type ParseSourceJobOptions,
  parseGpJob,
  parseItemStatus,
  parseServerJob,
  readSourceJob,
  type SourceJob,
  safeParseGpJob,
  safeParseItemStatus,
  safeParseServerJob,
  sourceOf,
} from './sources/read.js';
export {
  checkJobRef,
  type EnterpriseJobRef,
  type GpJobRef,
  ITEM_JOB_TYPES,
  type ItemJobRef,
  isJobRefError,
  JOB_SOURCES,
  type JobRef,
  JobRefError,
  type JobRefErrorCode,
  type JobRefResult,
  type JobSource,
  jobRefAdminUrl,
  jobRefKey,
  jobRefRoot,
  jobRefUrl,
  parseJobRef,
  type ServerJobRef,
  safeParseJobRef,
} from './sources/ref.js';
export {
  GP_JOB_STATUSES,
  ITEM_JOB_STATUSES,
  sourceProgress,
  sourceReason,
  sourceResults,
  sourceStatus,
  sourceStep,
} from './sources/status.js';
export * from './status.js';
export { describeSchema, describeValue, pointerToPath } from './validate.js';
