/**
 * `@jobwatch/simulator`: a local, faithful stand-in for the ArcGIS Enterprise
 * Administrator API — tokens, jobs that progress on a controllable clock, services and
 * their async operations, backups, injected faults — and for the sister job sources: ArcGIS
 * Server admin jobs, geoprocessing services and portal item status; for tests, benchmarks
 * and demos.
 * Written from the API reference, never from jobwatch's client. Node only.
 *
 * @module @jobwatch/simulator
 * @packageDocumentation
 */
export { type ServiceKey, serviceKeyString } from './catalogue.js';
export { type CliIo, parseSimulatorArgs, runSimulatorCli, SIMULATOR_USAGE } from './cli.js';
export type { ClockOption, SimClock } from './clock.js';
export {
  isSimulatorError,
  SimulatorError,
  SimulatorErrorCode,
  type SimulatorErrorCodeValue,
} from './errors.js';
export {
  FAULT_KINDS,
  FaultKind,
  type FaultKindValue,
  type FaultSpec,
  parseFaultSpec,
} from './faults.js';
export { GP_CANCEL_MS, GP_JOB_ENDS, type GpJobEnd, type GpJobSpec } from './gp-jobs.js';
export {
  ITEM_JOB_TYPES,
  type ItemJobEnd,
  type ItemJobSpec,
  type ItemJobType,
} from './item-jobs.js';
export { JOB_ENDS, type JobEnd } from './jobs.js';
export {
  QUIRK_NAMES,
  QUIRK_SOURCES,
  QuirkName,
  type QuirkNameValue,
  type QuirksOption,
  TOKEN_HEADER_MODES,
  type TokenHeaderMode,
} from './quirks.js';
export { createRandom, logUniform, type Random } from './random.js';
export {
  type CreatedGpJob,
  type CreatedItemJob,
  type CreatedServerJob,
  type RequestLogEntry,
  type Simulator,
  type SimulatorOptions,
  type StartedSimulator,
  startSimulator,
} from './server.js';
export {
  SERVER_JOB_ENDS,
  type ServerJobEnd,
  type ServerJobSpec,
  type ServerOperation,
} from './server-jobs.js';
export {
  type JobSpec,
  type OperationMix,
  SIM_ROUTES,
  type SimRoute,
  type SimStats,
  type WorkloadOptions,
} from './site.js';
