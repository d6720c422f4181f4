/**
 * What daemons tell each other, over Redis pub/sub on `<prefix>notices`: work released (so a
 * daemon with room takes it at once instead of at its next tick), and a job added or stopped
 * through the API of a daemon that does not poll its deployment (so the one that does starts
 * or stops at once). Pub/sub may lose a message (a daemon reconnecting); nothing depends on
 * it alone: ticks take free work, and the holder rescans the store's watch set.
 */
import type { Redis } from 'ioredis';

/** One notice. */
export type Notice =
  | { readonly kind: 'released'; readonly work: string }
  | { readonly kind: 'watch' | 'unwatch'; readonly deployment: string; readonly jobid: string };

/** The pub/sub channel under `prefix`. */
export const noticeChannel = (prefix: string) => `${prefix}notices`;

/** A notice as sent: who sent it, so a daemon ignores its own. */
interface Envelope {
  readonly from: string;
  readonly notice: Notice;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Reads a notice; `undefined` for anything that is not one (never a throw). */
export function parseNotice(text: string): { from: string; notice: Notice } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { from, notice } = (value ?? {}) as { from?: unknown; notice?: Record<string, unknown> };
  if (!isString(from) || typeof notice !== 'object' || notice === null) return undefined;
  if (notice.kind === 'released' && isString(notice.work))
    return { from, notice: { kind: 'released', work: notice.work } };
  if (
    (notice.kind === 'watch' || notice.kind === 'unwatch') &&
    isString(notice.deployment) &&
    isString(notice.jobid)
  )
    return {
      from,
      notice: { kind: notice.kind, deployment: notice.deployment, jobid: notice.jobid },
    };
  return undefined;
}

/** Options of {@link openNotices}. */
export interface NoticesOptions {
  /** A connection for publishing (shared with other commands). */
  readonly publisher: Redis;
  /** A connection of its own, which this puts in subscriber mode. */
  readonly subscriber: Redis;
  readonly prefix: string;
  /** This daemon (its own notices are not delivered to it). */
  readonly owner: string;
  readonly onNotice: (notice: Notice) => void;
}

/** Sending and receiving notices. */
export interface Notices {
  /** Publishes a notice; never rejects (a lost notice is made up for by ticks and rescans). */
  publish(notice: Notice): Promise<void>;
  /** Unsubscribes. */
  close(): Promise<void>;
}

/** Subscribes to the notices of the daemons sharing `prefix`. */
export async function openNotices(options: NoticesOptions): Promise<Notices> {
  const channel = noticeChannel(options.prefix);
  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    const parsed = parseNotice(text);
    if (parsed && parsed.from !== options.owner) options.onNotice(parsed.notice);
  };
  options.subscriber.on('message', onMessage);
  await options.subscriber.subscribe(channel);
  return {
    async publish(notice) {
      const envelope: Envelope = { from: options.owner, notice };
      await options.publisher.publish(channel, JSON.stringify(envelope)).catch(() => 0);
    },
    async close() {
      options.subscriber.off('message', onMessage);
      await options.subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
