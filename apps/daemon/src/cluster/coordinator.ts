/**
 * Which daemon polls what: every tick (a third of the lease period, at most {@link MAX_TICK_MS})
 * a daemon marks itself
 * live, renews the leases it holds, gives one away when it holds more than its share, and
 * takes free work while it has room. Its share is `ceil(works / live daemons)`; work left free
 * for a whole lease period (its share counted wrong while a daemon died, say) is taken
 * whatever the share. A daemon that dies stops renewing: its leases run out after one lease
 * period and the next tick of a daemon with room takes them over — within the lease period
 * plus one tick, so the tick is capped: a 15 s lease would otherwise leave a dead daemon's work
 * unpolled for up to 20 s.
 */
import type { Fence } from '../store/store.js';
import type { Grant, Leases } from './lease.js';

/** The longest tick, in ms: takeover happens within the lease period plus this. */
export const MAX_TICK_MS = 1500;

/** Why a daemon stopped holding a unit of work. */
export type LossReason =
  /** Renewal found another holder or a newer token: it was taken over. */
  | 'taken'
  /** The store refused a write with this daemon's token. */
  | 'fenced'
  /** Given away: more than its share, or shutting down. */
  | 'released';

/** What the coordinator reports as it goes (for metrics and logs). */
export interface CoordinatorEvents {
  /** A lease was acquired (`grant.takeover`: from a daemon that never released it). */
  gained?(grant: Grant): void;
  /** A lease is no longer held. */
  lost?(work: string, reason: LossReason): void;
  /** A renewal failed: `lost` (another holder) or `error` (Redis did not answer). */
  renewFailed?(work: string, reason: 'lost' | 'error', error?: unknown): void;
  /** A tick could not reach Redis at all. */
  tickFailed?(error: unknown): void;
  /** Live daemons, as the last heartbeat counted them. */
  live?(count: number): void;
}

/** Options of {@link createCoordinator}. */
export interface CoordinatorOptions {
  readonly leases: Leases;
  /** Every unit of work there is (the same list on every daemon). */
  readonly works: readonly string[];
  /** Starts polling a unit of work. Runs before the next tick. */
  readonly onGained: (grant: Grant) => void | Promise<void>;
  /**
   * Stops polling a unit of work at once. For `released`, the lease is given up only after
   * the returned promise settles (pending writes made with its token first).
   */
  readonly onLost: (work: string, reason: LossReason) => void | Promise<void>;
  /**
   * A lease had run out but nobody took the work since, and renewal took it back with the same
   * token (Redis was away, or this daemon paused): writes refused meanwhile may have ended
   * watches early, so the daemon should compare what it polls with the store.
   */
  readonly onResumed?: (work: string) => void;
  /** Tells the other daemons that work was released (so one with room takes it at once). */
  readonly announceRelease?: (work: string) => void;
  readonly events?: CoordinatorEvents;
  /** Between two ticks, in ms. @default a third of the lease period, at most {@link MAX_TICK_MS} */
  readonly tickMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The running coordination of one daemon. */
export interface Coordinator {
  /** Runs the first tick (so work is taken before it resolves), then ticks on a timer. */
  start(): Promise<void>;
  /** The fence of a unit of work this daemon holds, `undefined` when it holds none. */
  fence(work: string): Fence | undefined;
  /** The units of work held now. */
  held(): readonly string[];
  /** Drops a unit of work at once (the store refused a write as `FENCED`). */
  lost(work: string, reason: Exclude<LossReason, 'released'>): void;
  /** Runs a tick soon (another daemon released work). */
  poke(): void;
  /**
   * Stops ticking. With `release` (graceful shutdown), gives up every lease after its
   * `onLost` settled and leaves the live set; without, lets them run out (as a crash would).
   */
  close(options?: { release?: boolean }): Promise<void>;
}

/** A stable order of `works` that differs between owners, so daemons reach for different work first. */
function preferenceOrder(works: readonly string[], owner: string): string[] {
  const hash = (s: string) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return h >>> 0;
  };
  return [...works].sort((a, b) => hash(owner + a) - hash(owner + b) || (a < b ? -1 : 1));
}

/** Creates the coordinator of one daemon. Call {@link Coordinator.start}. */
export function createCoordinator(options: CoordinatorOptions): Coordinator {
  const { leases, events = {} } = options;
  const now = options.now ?? Date.now;
  const tickMs =
    options.tickMs ?? Math.max(50, Math.min(MAX_TICK_MS, Math.floor(leases.leasePeriodMs / 3)));
  const works = preferenceOrder([...new Set(options.works)], leases.owner);
  /** Held work → its token. */
  const held = new Map<string, number>();
  /** Free work → local ms when it was first seen free. */
  const freeSince = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;

  /**
   * Stops holding `work`. Given away (`released`), it stays held — its fence valid — until
   * `onLost` has settled, so writes in flight go through; lost, it is dropped at once.
   */
  const drop = async (work: string, reason: LossReason): Promise<void> => {
    if (!held.has(work)) return;
    if (reason === 'released') await options.onLost(work, reason);
    if (!held.delete(work)) return;
    events.lost?.(work, reason);
    if (reason !== 'released') await options.onLost(work, reason);
  };

  async function renewAll(): Promise<void> {
    await Promise.all(
      [...held].map(async ([work, token]) => {
        try {
          const outcome = await leases.renew(work, token);
          if (outcome === 'lost' && held.get(work) === token) {
            events.renewFailed?.(work, 'lost');
            await drop(work, 'taken');
          } else if (outcome === 'resumed') options.onResumed?.(work);
        } catch (error) {
          // Redis is away: nobody else can take the work meanwhile, so polling goes on (the
          // store keeps what it finds); when Redis is back, renewal tells who holds it.
          events.renewFailed?.(work, 'error', error);
        }
      }),
    );
  }

  async function rebalance(live: number): Promise<void> {
    const share = Math.ceil(works.length / Math.max(1, live));
    if (held.size > share) {
      // One at a time, the least preferred first: the others have a tick to take it.
      const work = works.filter((w) => held.has(w)).at(-1);
      const token = work === undefined ? undefined : held.get(work);
      if (work !== undefined && token !== undefined) {
        await drop(work, 'released');
        await leases.release(work, token);
        options.announceRelease?.(work);
      }
      return;
    }
    const candidates = works.filter((w) => !held.has(w));
    if (candidates.length === 0) return;
    const holders = await leases.holders(candidates);
    const at = now();
    for (const work of candidates) {
      if (closed) return;
      const holder = holders.get(work);
      if (holder !== undefined) {
        freeSince.delete(work);
        continue;
      }
      if (!freeSince.has(work)) freeSince.set(work, at);
      const orphaned = at - (freeSince.get(work) ?? at) >= leases.leasePeriodMs;
      if (held.size >= share && !orphaned) continue;
      const grant = await leases.acquire(work);
      if (!grant) continue;
      freeSince.delete(work);
      if (closed) {
        await leases.release(work, grant.token);
        return;
      }
      held.set(work, grant.token);
      events.gained?.(grant);
      await options.onGained(grant);
    }
  }

  async function tick(): Promise<void> {
    try {
      const live = await leases.heartbeat();
      events.live?.(live);
      await renewAll();
      if (!closed) await rebalance(live);
    } catch (error) {
      events.tickFailed?.(error);
    }
  }

  function schedule(delay: number): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(run, delay);
    timer.unref();
  }

  function run(): void {
    if (running) {
      again = true;
      return;
    }
    running = tick().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        schedule(0);
      } else schedule(tickMs);
    });
  }

  return {
    async start() {
      run();
      await running;
    },
    fence(work) {
      const token = held.get(work);
      return token === undefined ? undefined : { work, token };
    },
    held: () => [...held.keys()],
    lost(work, reason) {
      void drop(work, reason);
    },
    poke() {
      if (!closed) run();
    },
    async close(closeOptions = {}) {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      await running;
      if (!closeOptions.release) return;
      await Promise.all(
        [...held].map(async ([work, token]) => {
          await drop(work, 'released');
          await leases.release(work, token).catch(() => false);
        }),
      );
      await leases.leave().catch(() => undefined);
    },
  };
}
