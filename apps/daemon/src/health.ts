/**
 * Whether each deployment's server is in trouble, for the logs and `jobwatch_deployment_up`.
 * Pacing already retries every failure on its own; this only tells people: one warning when
 * a deployment's trouble starts, one line when it ends.
 */
import { formatDuration } from './duration.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** Codes of failures that speak of the server, not of one job: an outage, throttling, refused credentials. */
const TROUBLE_CODES: ReadonlySet<string> = new Set(['TRANSPORT', 'RATE_LIMITED', 'AUTH']);

/**
 * How long requests must keep failing, with no good answer in between, before the trouble is
 * logged (and at least {@link TROUBLE_AFTER_ATTEMPTS} of them): a single fault among many
 * good answers is not an outage.
 */
export const TROUBLE_AFTER_MS = 5_000;
/** How many failed requests in a row, at least, before the trouble is logged. */
export const TROUBLE_AFTER_ATTEMPTS = 3;

/** Options of {@link DeploymentHealth}. */
export interface DeploymentHealthOptions {
  readonly deployment: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default Date.now */
  readonly now?: () => number;
}

/** One deployment's trouble: fed every request's outcome, it logs where trouble starts and ends. */
export class DeploymentHealth {
  readonly #options: DeploymentHealthOptions;
  readonly #now: () => number;
  /** Epoch ms of the first failure since the last good answer. */
  #failingSince: number | undefined;
  #attempts = 0;
  #logged = false;

  constructor(options: DeploymentHealthOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    options.metrics.deploymentUp.set({ deployment: options.deployment }, 1);
  }

  /** Whether the trouble has been logged and not yet ended. */
  get down(): boolean {
    return this.#logged;
  }

  /** A request got a good answer (a job, or an error about one job only). */
  ok(): void {
    const { deployment, logger, metrics } = this.#options;
    if (this.#logged && this.#failingSince !== undefined) {
      const downMs = this.#now() - this.#failingSince;
      logger.info(
        { deployment, downMs, down: formatDuration(downMs), attempts: this.#attempts },
        'deployment recovered',
      );
      metrics.deploymentUp.set({ deployment }, 1);
    }
    this.#failingSince = undefined;
    this.#attempts = 0;
    this.#logged = false;
  }

  /** A request failed with `code`; only server-wide codes count as trouble. */
  failed(code: string, message: string): void {
    if (code === 'ABORTED') return;
    if (!TROUBLE_CODES.has(code)) {
      this.ok();
      return;
    }
    const at = this.#now();
    this.#failingSince ??= at;
    this.#attempts += 1;
    if (
      this.#logged ||
      this.#attempts < TROUBLE_AFTER_ATTEMPTS ||
      at - this.#failingSince < TROUBLE_AFTER_MS
    )
      return;
    this.#logged = true;
    const { deployment, logger, metrics } = this.#options;
    logger.warn(
      {
        deployment,
        code,
        message,
        attempts: this.#attempts,
        since: new Date(this.#failingSince).toISOString(),
      },
      'deployment in trouble',
    );
    metrics.deploymentUp.set({ deployment }, 0);
  }
}
