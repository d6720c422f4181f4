/**
 * Prometheus metrics of the daemon (prom-client, its own registry). No job id is ever a label:
 * labels are deployment names, statuses, outcomes and results, all small sets.
 */
import { canonicalStatus } from '@jobwatch/schema';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric the daemon exports. */
export interface Metrics {
  readonly registry: Registry;
  /** Polls of job resources by deployment and outcome (`ok` or an error code in lower case). */
  readonly polls: Counter<'deployment' | 'outcome'>;
  /** Seconds per job poll, by deployment. */
  readonly pollSeconds: Histogram<'deployment'>;
  /** Visible snapshot changes by deployment and status. */
  readonly transitions: Counter<'deployment' | 'status'>;
  /** Webhook delivery attempts by result: `delivered`, `failed`, `disabled`, `expired`. */
  readonly webhookDeliveries: Counter<'result'>;
  /** Event-stream clients connected now. */
  readonly streamClients: Gauge;
  /** Event-stream clients dropped because they could not keep up. */
  readonly streamDropped: Counter;
  /** Event-stream clients refused because `events.maxClients` were connected. */
  readonly streamRefused: Counter;
  /** Watches that could not go on, by deployment and the error's code (`AUTH`, `JOB_NOT_FOUND`, …). */
  readonly watchesFailed: Counter<'deployment' | 'code'>;
  /**
   * 1 while a deployment's server answers, 0 from the moment its trouble is logged (requests
   * failing for a while with no good answer in between) until it answers again.
   */
  readonly deploymentUp: Gauge<'deployment'>;
  /**
   * Values in server bodies that were not in their documented shape, by deployment and JSON
   * pointer (list indices collapsed to `*`), one per body read.
   */
  readonly schemaWarnings: Counter<'deployment' | 'pointer'>;
  /** Jobs whose status became one jobwatch does not know, by deployment. */
  readonly unknownStatuses: Counter<'deployment'>;
  /** Watched jobs by deployment and status, read from {@link setWatchedSource} at scrape time. */
  readonly watchedJobs: Gauge<'deployment' | 'status'>;
  /** 1 while the store answers, 0 while it cannot be reached (a Redis store only ever goes to 0). */
  readonly storeUp: Gauge;
  /** Store operations that failed, by operation (`record`, `list`, `outbox`, …) and stable code. */
  readonly storeErrors: Counter<'operation' | 'code'>;
  /** Transitions held in memory while the store cannot be reached, waiting to be written. */
  readonly storeBuffered: Gauge;
  /** Buffered transitions dropped past the buffer's bound (intermediate ones only, never an end). */
  readonly storeBufferDropped: Counter;
  /** Round trips to Redis by command (scripts by their name). */
  readonly redisCommands: Counter<'command'>;
  /** Seconds per round trip to Redis, by command. */
  readonly redisSeconds: Histogram<'command'>;
  /**
   * Leases this daemon holds, by deployment (1 held, 0 not): summed over every daemon, each
   * deployment's is 1 while the daemons share work through Redis. Absent without Redis.
   */
  readonly leasesHeld: Gauge<'deployment'>;
  /** Leases acquired from a daemon that never released them (it died or lost touch), by deployment. */
  readonly leaseTakeovers: Counter<'deployment'>;
  /** Lease renewals that failed, by deployment and reason: `lost` (another daemon holds it) or `error` (Redis did not answer). */
  readonly leaseRenewFailures: Counter<'deployment' | 'reason'>;
  /** Writes the store refused because this daemon's lease was no longer current, by deployment. */
  readonly fencedWrites: Counter<'deployment'>;
  /** Daemons sharing the work, as this daemon's last heartbeat counted them (itself included). */
  readonly clusterDaemons: Gauge;
  /** Sets the function that counts watched jobs when `/metrics` is read. */
  setWatchedSource(source: () => Iterable<{ deployment: string; status: string | null }>): void;
}

/**
 * A label value for a status: known statuses in their canonical spelling (`COMPLETED` for
 * `completed`), `PENDING` before the first body, `UNKNOWN` otherwise.
 */
export function statusLabel(status: string | null): string {
  if (status === null) return 'PENDING';
  return canonicalStatus(status) ?? 'UNKNOWN';
}

/** Creates the registry with Node's default metrics (`nodejs_eventloop_lag_p99_seconds` among them). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: '', eventLoopMonitoringPrecision: 10 });
  let source: () => Iterable<{ deployment: string; status: string | null }> = () => [];
  const watchedJobs = new Gauge({
    name: 'jobwatch_watched_jobs',
    help: 'Jobs being watched, by deployment and last known status.',
    labelNames: ['deployment', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, { deployment: string; status: string; n: number }>();
      for (const { deployment, status } of source()) {
        const label = statusLabel(status);
        const key = `${deployment}\u0000${label}`;
        const entry = counts.get(key) ?? { deployment, status: label, n: 0 };
        entry.n += 1;
        counts.set(key, entry);
      }
      for (const { deployment, status, n } of counts.values()) this.set({ deployment, status }, n);
    },
  });
  return {
    registry,
    polls: new Counter({
      name: 'jobwatch_polls_total',
      help: 'Job polls by outcome.',
      labelNames: ['deployment', 'outcome'] as const,
      registers: [registry],
    }),
    pollSeconds: new Histogram({
      name: 'jobwatch_poll_duration_seconds',
      help: 'Duration of one job poll.',
      labelNames: ['deployment'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'jobwatch_transitions_total',
      help: 'Visible job changes by status.',
      labelNames: ['deployment', 'status'] as const,
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'jobwatch_webhook_deliveries_total',
      help: 'Webhook delivery attempts by result.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    streamClients: new Gauge({
      name: 'jobwatch_event_stream_clients',
      help: 'Event-stream clients connected.',
      registers: [registry],
    }),
    streamDropped: new Counter({
      name: 'jobwatch_event_stream_dropped_total',
      help: 'Event-stream clients dropped for not keeping up.',
      registers: [registry],
    }),
    streamRefused: new Counter({
      name: 'jobwatch_event_stream_refused_total',
      help: 'Event-stream clients refused because the most allowed were connected.',
      registers: [registry],
    }),
    watchesFailed: new Counter({
      name: 'jobwatch_watches_failed_total',
      help: 'Watches that could not go on, by the error code.',
      labelNames: ['deployment', 'code'] as const,
      registers: [registry],
    }),
    deploymentUp: new Gauge({
      name: 'jobwatch_deployment_up',
      help: "1 while the deployment's server answers, 0 while its trouble lasts.",
      labelNames: ['deployment'] as const,
      registers: [registry],
    }),
    schemaWarnings: new Counter({
      name: 'jobwatch_schema_warnings_total',
      help: 'Values in server bodies not in their documented shape, by JSON pointer (list indices as *).',
      labelNames: ['deployment', 'pointer'] as const,
      registers: [registry],
    }),
    unknownStatuses: new Counter({
      name: 'jobwatch_unknown_statuses_total',
      help: 'Jobs whose status became one jobwatch does not know.',
      labelNames: ['deployment'] as const,
      registers: [registry],
    }),
    storeUp: (() => {
      const gauge = new Gauge({
        name: 'jobwatch_store_up',
        help: '1 while the store answers, 0 while it cannot be reached.',
        registers: [registry],
      });
      gauge.set(1);
      return gauge;
    })(),
    storeErrors: new Counter({
      name: 'jobwatch_store_errors_total',
      help: 'Store operations that failed, by operation and code.',
      labelNames: ['operation', 'code'] as const,
      registers: [registry],
    }),
    storeBuffered: new Gauge({
      name: 'jobwatch_store_buffered_transitions',
      help: 'Transitions held in memory while the store cannot be reached.',
      registers: [registry],
    }),
    storeBufferDropped: new Counter({
      name: 'jobwatch_store_buffer_dropped_total',
      help: 'Intermediate transitions dropped past the outage buffer bound (ends are never dropped).',
      registers: [registry],
    }),
    redisCommands: new Counter({
      name: 'jobwatch_redis_commands_total',
      help: 'Round trips to Redis by command.',
      labelNames: ['command'] as const,
      registers: [registry],
    }),
    redisSeconds: new Histogram({
      name: 'jobwatch_redis_command_duration_seconds',
      help: 'Duration of one round trip to Redis, by command.',
      labelNames: ['command'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    leasesHeld: new Gauge({
      name: 'jobwatch_leases_held',
      help: 'Leases this daemon holds, by deployment (1 held, 0 not).',
      labelNames: ['deployment'] as const,
      registers: [registry],
    }),
    leaseTakeovers: new Counter({
      name: 'jobwatch_lease_takeovers_total',
      help: 'Leases taken over from a daemon that never released them.',
      labelNames: ['deployment'] as const,
      registers: [registry],
    }),
    leaseRenewFailures: new Counter({
      name: 'jobwatch_lease_renew_failures_total',
      help: 'Lease renewals that failed, by reason (lost, error).',
      labelNames: ['deployment', 'reason'] as const,
      registers: [registry],
    }),
    fencedWrites: new Counter({
      name: 'jobwatch_fenced_writes_total',
      help: "Writes the store refused because this daemon's lease was no longer current.",
      labelNames: ['deployment'] as const,
      registers: [registry],
    }),
    clusterDaemons: new Gauge({
      name: 'jobwatch_cluster_daemons',
      help: 'Daemons sharing the work through Redis, as the last heartbeat counted them.',
      registers: [registry],
    }),
    watchedJobs,
    setWatchedSource(next) {
      source = next;
    },
  };
}
