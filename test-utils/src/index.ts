/**
 * What jobwatch's test suites share instead of copying: Chromium driven by playwright-core
 * (offline, a fresh profile each launch), the built `jobwatch` CLI as a child process (and
 * `jobwatch serve` with a throwaway configuration), a real `redis-server` per test file, and seeded randomness that a printed seed
 * replays. Private to the repository; the widget's, the whole-stack, the examples' tests and
 * the benchmarks use it.
 *
 * @packageDocumentation
 */
export {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  type Chromium,
  type LaunchChromiumOptions,
  launchChromium,
} from './browser.js';
export {
  DAEMON_MAIN,
  DaemonProcess,
  type DaemonProcessOptions,
  freePort,
  type OutputLine,
} from './daemon.js';
export { between, logUniform, pick, type Random, seededRandom, seedFrom } from './random.js';
export {
  REDIS_SERVER_PATH,
  type RedisServer,
  type StartRedisOptions,
  startRedis,
} from './redis.js';
export {
  type ServeDaemonOptions,
  type ServedDaemon,
  serveDaemon,
} from './serve.js';
