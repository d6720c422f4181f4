import { SimulatorError } from './errors.js';
import type { QuirkNameValue, QuirksOption } from './quirks.js';
import { checkDuration, checkQuirks } from './spec.js';
import { TimedStore } from './store.js';

/** The portal jobs whose status an item answers (`jobType`). */
export type ItemJobType = 'publish' | 'generateFeatures' | 'export' | 'createService';

/** Every {@link ItemJobType}. */
export const ITEM_JOB_TYPES: readonly ItemJobType[] = Object.freeze([
  'publish',
  'generateFeatures',
  'export',
  'createService',
]);

/** How a simulated item job ends. */
export type ItemJobEnd = 'completed' | 'failed';

/**
 * A portal item job to create through the control surface (`POST /__sim/items/jobs` or
 * `sim.createItemJob`), as if a publish, export, generateFeatures or createService request
 * had answered its `jobId`.
 *
 * @example
 * ```ts
 * const { statusUrl } = sim.createItemJob({ outcome: 'failed', durationMs: 4000, jobType: 'export' });
 * ```
 */
export interface ItemJobSpec {
  readonly outcome: ItemJobEnd;
  /** Milliseconds from the request to the end. */
  readonly durationMs: number;
  /** @default 'publish' */
  readonly jobType?: ItemJobType;
  /** The item's owner. @default the first configured user */
  readonly username?: string;
  /** The item (32 hex digits); a new one when absent. */
  readonly itemId?: string;
  /** Milliseconds the job first reads `partial` (a multipart upload not yet committed). @default 0 */
  readonly partialMs?: number;
  /** The quirks this job shows whatever the simulator-wide setting (`statusMessageJson`). */
  readonly quirks?: QuirksOption;
}

const ITEM_ID = /^[0-9a-f]{32}$/;

/** Whether `id` is a portal item id: 32 lowercase hex digits. */
export function isItemId(id: string): boolean {
  return ITEM_ID.test(id);
}

/** One portal item job, keyed by its `jobId`; its state is computed from the clock. */
export class ItemJob {
  constructor(
    readonly id: string,
    readonly itemId: string,
    readonly jobType: ItemJobType,
    readonly username: string,
    readonly start: number,
    readonly duration: number,
    readonly end: ItemJobEnd,
    readonly partialMs: number,
  ) {}

  /** The quirks this job shows whatever the simulator-wide setting, if any. */
  quirks: readonly QuirkNameValue[] | undefined = undefined;

  /** Epoch ms of the end. */
  get endsAt(): number {
    return this.start + this.duration;
  }
}

const FAILURES: Readonly<Record<ItemJobType, string>> = {
  publish: 'Failed to publish the item: the file geodatabase holds no feature classes.',
  generateFeatures: 'Failed to generate features: the CSV has no location fields.',
  export: 'Failed to export the item: the layer exceeds the export limit.',
  createService: 'Failed to create the service: a service of that name already exists.',
};

/**
 * The body `GET <portal>/sharing/rest/content/users/<user>/items/<itemId>/status` answers
 * for a job: `{status, statusMessage, itemId}` — `partial` (not yet committed),
 * `processing`, then `completed` or `failed` (a failure is a job outcome here, not an
 * error body).
 */
export function itemStatusBody(
  job: ItemJob,
  now: number,
  quirks?: ReadonlySet<QuirkNameValue>,
): Record<string, unknown> {
  const elapsed = now - job.start;
  if (elapsed >= job.duration) {
    if (job.end === 'completed')
      return { status: 'completed', statusMessage: 'completed', itemId: job.itemId };
    const text = FAILURES[job.jobType];
    return {
      status: 'failed',
      statusMessage: quirks?.has('statusMessageJson')
        ? JSON.stringify({ code: 500, message: text })
        : text,
      itemId: job.itemId,
    };
  }
  return elapsed < job.partialMs
    ? { status: 'partial', statusMessage: 'partial', itemId: job.itemId }
    : { status: 'processing', statusMessage: 'processing', itemId: job.itemId };
}

/**
 * Checks an item job spec from untrusted input.
 * @throws {@link SimulatorError} `INVALID_SPEC` naming the first problem.
 */
export function parseItemJobSpec(
  input: unknown,
  users: Readonly<Record<string, string>>,
): ItemJobSpec {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_SPEC', `item job: ${why}`);
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    bad('expected an object');
  const { outcome, durationMs, jobType, username, itemId, partialMs, quirks } = input as Record<
    string,
    unknown
  >;
  if (outcome !== 'completed' && outcome !== 'failed') bad('outcome must be completed or failed');
  checkDuration(durationMs, bad);
  if (jobType !== undefined && !ITEM_JOB_TYPES.includes(jobType as ItemJobType))
    bad(`jobType must be one of ${ITEM_JOB_TYPES.join(', ')}`);
  if (username !== undefined && (typeof username !== 'string' || !Object.hasOwn(users, username)))
    bad('username must name a configured user');
  if (itemId !== undefined && (typeof itemId !== 'string' || !isItemId(itemId)))
    bad('itemId must be 32 lowercase hex digits');
  if (
    partialMs !== undefined &&
    (typeof partialMs !== 'number' ||
      !Number.isInteger(partialMs) ||
      partialMs < 0 ||
      partialMs >= (durationMs as number))
  )
    bad('partialMs must be an integer from 0 to below durationMs');
  checkQuirks(quirks, bad);
  return {
    outcome: outcome as ItemJobEnd,
    durationMs: Math.floor(durationMs as number),
    ...(jobType !== undefined ? { jobType: jobType as ItemJobType } : {}),
    ...(username !== undefined ? { username: username as string } : {}),
    ...(itemId !== undefined ? { itemId: itemId as string } : {}),
    ...(partialMs !== undefined ? { partialMs: partialMs as number } : {}),
    ...(quirks !== undefined ? { quirks: quirks as QuirksOption } : {}),
  };
}

/** The portal item jobs of a site, by `jobId`, and the items they concern. */
export class ItemJobs extends TimedStore<ItemJob> {
  readonly #items = new Set<string>();

  /** Adds a job; its item exists from then on (purging the job does not delete the item). */
  override add(job: ItemJob): void {
    super.add(job);
    if (this.#items.size < 1_000_000) this.#items.add(job.itemId);
  }

  /** Whether an item exists. */
  hasItem(itemId: string): boolean {
    return this.#items.has(itemId);
  }
}
