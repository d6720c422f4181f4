/**
 * `@jobwatch/simulator`: a local, faithful stand-in for the ArcGIS Enterprise
 * Administrator API — tokens, jobs that progress on a controllable clock, services and
 * their async operations, backups, injected faults — for tests, benchmarks and demos.
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
export { JOB_ENDS, type JobEnd } from './jobs.js';
export {
  QUIRK_NAMES,
  QuirkName,
  type QuirkNameValue,
  type QuirksOption,
  TOKEN_HEADER_MODES,
  type TokenHeaderMode,
} from './quirks.js';
export { createRandom, logUniform, type Random } from './random.js';
export {
  type RequestLogEntry,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './server.js';
export {
  type JobSpec,
  type OperationMix,
  SIM_ROUTES,
  type SimRoute,
  type SimStats,
  type WorkloadOptions,
} from './site.js';
