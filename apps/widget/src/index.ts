/**
 * `@jobwatch/widget`: custom elements that show ArcGIS Enterprise admin jobs live. Importing
 * this module defines nothing; import `@jobwatch/widget/define` (or call
 * {@link @jobwatch/widget/define!defineElements}) to register the elements.
 *
 * @module @jobwatch/widget
 * @packageDocumentation
 */
export {
  SnapshotController,
  type SnapshotControllerOptions,
  type SnapshotEvent,
  type SnapshotSource,
} from './controller.js';
export { JobwatchJob, STATUS_PARTS } from './job-element.js';
export { JobFilter, type JobFilterValue, JobwatchJobs, matchesFilter } from './jobs-element.js';
export {
  describeError,
  JobwatchLiveElement,
  type SourceProblem,
  type SourceProblemEvent,
} from './live-element.js';
export { catalogs, de, en, fill, inheritedLang, type Messages, messagesFor } from './messages.js';
export type { TicketProvider, TokenProvider } from './providers.js';
export type { SourceRequest } from './sources.js';
export { sourceFor } from './sources.js';
export { JobwatchStatus, type Theme } from './status-element.js';
export {
  describeSnapshot,
  formatDuration,
  formatPercent,
  formatTime,
  type JobView,
  type ResultLink,
  type SourceFields,
  type StageView,
  type StepView,
  safeHref,
  statusLabel,
  Tone,
  type ToneValue,
  toneOf,
} from './view.js';
