import type { Snapshot } from '@jobwatch/schema';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Subscribable, Unsubscribable } from 'rxjs';
import { asSnapshot } from './view.js';

/**
 * Anything that emits snapshots: an RxJS `Observable<Snapshot>` from `@jobwatch/rx`
 * (`watchJob`, `fromDaemon`, …) or any object with the same `subscribe`.
 */
export type SnapshotSource = Subscribable<Snapshot>;

/** Options of {@link SnapshotController}. */
export interface SnapshotControllerOptions {
  /**
   * At most this many jobs are kept; past it, the jobs that ended longest ago are dropped
   * first. @default 500
   */
  readonly limit?: number;
}

/** The detail of the `jobwatch-change` and `jobwatch-end` events: the snapshot itself. */
export type SnapshotEvent = CustomEvent<Snapshot>;

/**
 * A Lit reactive controller that subscribes its host to a {@link SnapshotSource} while the
 * host is connected, unsubscribes when it is disconnected, and folds every snapshot that
 * arrives between two renders into one update.
 *
 * After each render it dispatches, from the host, `jobwatch-change` for every job that
 * changed and `jobwatch-end` for every job that reached its end (detail: the snapshot;
 * both bubble and cross shadow roots).
 *
 * It holds no pacing or retry logic: the source does that.
 *
 * @example
 * ```ts
 * class MyJob extends LitElement {
 *   #jobs = new SnapshotController(this);
 *   connectedCallback() { super.connectedCallback(); this.#jobs.source = watchJob(client, id); }
 *   render() { return html`${this.#jobs.latest?.status}`; }
 * }
 * ```
 */
export class SnapshotController implements ReactiveController {
  readonly #host: ReactiveControllerHost & EventTarget;
  #limit: number;
  #source: SnapshotSource | undefined;
  #subscription: Unsubscribable | undefined;
  #connected = false;
  readonly #jobs = new Map<string, Snapshot>();
  #pending = new Map<string, Snapshot>();
  #toDispatch: Snapshot[] = [];
  #latest: Snapshot | undefined;
  #error: unknown;
  #complete = false;

  constructor(host: ReactiveControllerHost & EventTarget, options: SnapshotControllerOptions = {}) {
    this.#host = host;
    this.#limit = Math.max(1, options.limit ?? 500);
    host.addController(this);
  }

  /** How many jobs are kept (see {@link SnapshotControllerOptions.limit}). */
  get limit(): number {
    return this.#limit;
  }
  /** Keeps at most `limit` jobs from now on; ended jobs that changed longest ago go first. */
  set limit(limit: number) {
    this.#limit = Math.max(1, Number.isFinite(limit) ? Math.floor(limit) : 500);
    this.#trim();
  }

  /** The source to follow. Setting another one drops what the previous one showed. */
  get source(): SnapshotSource | undefined {
    return this.#source;
  }
  /** Follows `source` instead, dropping what the previous one showed. */
  set source(source: SnapshotSource | undefined) {
    if (source === this.#source) return;
    this.#unsubscribe();
    this.#source = source;
    this.#jobs.clear();
    this.#pending.clear();
    this.#latest = undefined;
    this.#error = undefined;
    this.#complete = false;
    if (this.#connected) this.#subscribe();
    this.#host.requestUpdate();
  }

  /** Every job seen, newest change first. */
  get snapshots(): Snapshot[] {
    this.#flush();
    return [...this.#jobs.values()].sort((a, b) => b.lastChanged - a.lastChanged);
  }

  /** The last snapshot rendered. */
  get latest(): Snapshot | undefined {
    this.#flush();
    return this.#latest;
  }

  /** The error that ended the source, if it ended with one. */
  get error(): unknown {
    return this.#error;
  }

  /** Whether the source has ended (completed or failed). */
  get complete(): boolean {
    return this.#complete;
  }

  hostConnected(): void {
    this.#connected = true;
    this.#subscribe();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#unsubscribe();
  }

  /** Folds the snapshots that arrived since the last render into the host's state. */
  hostUpdate(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    for (const [key, snapshot] of batch) {
      this.#jobs.delete(key);
      this.#jobs.set(key, snapshot);
      this.#latest = snapshot;
      this.#toDispatch.push(snapshot);
    }
    this.#trim();
  }

  /** Tells the page what changed, once the host shows it. */
  hostUpdated(): void {
    const batch = this.#toDispatch;
    if (batch.length === 0) return;
    this.#toDispatch = [];
    for (const snapshot of batch) {
      this.#dispatch('jobwatch-change', snapshot);
      if (snapshot.terminal) this.#dispatch('jobwatch-end', snapshot);
    }
  }

  #dispatch(type: 'jobwatch-change' | 'jobwatch-end', snapshot: Snapshot): void {
    this.#host.dispatchEvent(
      new CustomEvent<Snapshot>(type, { detail: snapshot, bubbles: true, composed: true }),
    );
  }

  #subscribe(): void {
    const source = this.#source;
    if (!source || this.#subscription || this.#complete) return;
    this.#subscription = source.subscribe({
      next: (value) => {
        // A hand-made source may send anything; what cannot be a snapshot is skipped.
        const snapshot = asSnapshot(value);
        if (!snapshot) return;
        const key = keyOf(snapshot);
        this.#pending.delete(key);
        this.#pending.set(key, snapshot);
        this.#host.requestUpdate();
      },
      error: (error: unknown) => {
        this.#error = error;
        this.#complete = true;
        this.#subscription = undefined;
        this.#host.requestUpdate();
      },
      complete: () => {
        this.#complete = true;
        this.#subscription = undefined;
        this.#host.requestUpdate();
      },
    });
    // A source that ended synchronously has nothing left to unsubscribe.
    if (this.#complete) this.#subscription = undefined;
  }

  #unsubscribe(): void {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    subscription?.unsubscribe();
  }

  /** Keeps at most `limit` jobs, dropping ended jobs first, oldest change first. */
  #trim(): void {
    let excess = this.#jobs.size - this.#limit;
    if (excess <= 0) return;
    const byAge = [...this.#jobs.values()].sort(
      (a, b) => Number(b.terminal) - Number(a.terminal) || a.lastChanged - b.lastChanged,
    );
    for (const snapshot of byAge) {
      if (excess-- <= 0) break;
      this.#jobs.delete(keyOf(snapshot));
    }
  }
}

/** Jobs of different deployments may share an id. */
const keyOf = (snapshot: Snapshot): string => `${snapshot.deployment}\u0000${snapshot.jobid}`;
