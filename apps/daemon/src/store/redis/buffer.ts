/**
 * Transitions found while Redis cannot be reached, held in memory in arrival order and
 * written, in that order, when it returns.
 *
 * Bounded: past `max` entries the buffer first drops intermediate snapshots that a later
 * one of the same job supersedes, then the oldest intermediate snapshots. A job's end (a
 * terminal snapshot, a failed watch) is never dropped: should ends alone exceed the bound,
 * the buffer holds them all (there is at most one per job watched).
 */
import type { Snapshot } from '@jobwatch/schema';
import { reconcileSnapshot } from '../store.js';

/** One write waiting for Redis. */
export interface BufferedWrite {
  /** The job, as `deployment/jobid`. */
  readonly key: string;
  /** A snapshot to record; absent for a failed watch. */
  readonly snapshot?: Snapshot | undefined;
  /** Whether it ends the job's watch (a terminal snapshot or a failure): never dropped. */
  readonly final: boolean;
  /** Performs the write. */
  readonly write: () => Promise<unknown>;
}

/** Options of {@link OutageBuffer}. */
export interface OutageBufferOptions {
  /** Most entries kept before intermediate ones are dropped. */
  readonly max: number;
  /** Called with how many entries were dropped. */
  readonly onDrop?: (count: number) => void;
  /** Called whenever the number of entries changes. */
  readonly onSize?: (size: number) => void;
}

/** The bounded FIFO of writes waiting for Redis. */
export class OutageBuffer {
  readonly #options: OutageBufferOptions;
  #entries: BufferedWrite[] = [];
  /** The newest entry of each job. */
  readonly #last = new Map<string, BufferedWrite>();

  constructor(options: OutageBufferOptions) {
    this.#options = options;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Adds a write. A snapshot that shows nothing new beside the job's newest buffered one is
   * not kept (resolves `false`).
   */
  push(entry: BufferedWrite): boolean {
    const last = this.#last.get(entry.key);
    if (last?.final) return false; // nothing comes after an end
    if (last?.snapshot && entry.snapshot && !reconcileSnapshot(last.snapshot, entry.snapshot))
      return false;
    this.#entries.push(entry);
    this.#last.set(entry.key, entry);
    if (this.#entries.length > this.#options.max) this.#compact();
    this.#options.onSize?.(this.#entries.length);
    return true;
  }

  /** The oldest entry, without removing it. */
  peek(): BufferedWrite | undefined {
    return this.#entries[0];
  }

  /** Removes the oldest entry (after it was written, or given up). */
  shift(): void {
    const entry = this.#entries.shift();
    if (entry && this.#last.get(entry.key) === entry) this.#last.delete(entry.key);
    this.#options.onSize?.(this.#entries.length);
  }

  /** Drops intermediate entries: superseded ones first, then the oldest, down to 90% of the bound. */
  #compact(): void {
    const before = this.#entries.length;
    let kept = this.#entries.filter((e) => e.final || this.#last.get(e.key) === e);
    const target = Math.floor(this.#options.max * 0.9);
    if (kept.length > target) {
      let excess = kept.length - target;
      kept = kept.filter((e) => {
        if (excess === 0 || e.final) return true;
        excess -= 1;
        this.#last.delete(e.key);
        return false;
      });
    }
    this.#entries = kept;
    this.#options.onDrop?.(before - kept.length);
  }
}
