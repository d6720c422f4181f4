import type { DaemonStreamState } from '@jobwatch/rx';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { SnapshotController, type SnapshotSource } from './controller.js';
import {
  fill,
  followLang,
  inheritedLang,
  type Messages,
  messagesFor,
  unfollowLang,
} from './messages.js';
import type { TicketProvider, TokenProvider } from './providers.js';
import { type SourceRequest, sourceFor } from './sources.js';
import type { Theme } from './status-element.js';

const SOURCE_KEYS = [
  'daemon',
  'ticketProvider',
  'adminUrl',
  'tokenProvider',
  'source',
  'deployment',
] as const;

/**
 * What is wrong with an element's source: what its `error` part shows, and the detail of
 * its `jobwatch-error` event.
 */
export interface SourceProblem {
  /**
   * `TRANSPORT`: the daemon's event stream cannot be reached (still trying);
   * `JOB_NOT_WATCHED`: the daemon does not watch the element's job (it shows once the daemon
   * does); otherwise the code of the error that stopped watching (`AUTH`, `CONFIG`,
   * `SCHEMA`, `JOB_NOT_FOUND`, …), or `ERROR` for an error that has none.
   */
  readonly code: string;
  /** One line for people, as the element shows it (in its language). */
  readonly message: string;
  /** Whether watching has stopped (`true`), or goes on: retrying, or waiting for the job. */
  readonly final: boolean;
}

/** The `jobwatch-error` event: its detail says what is wrong. */
export type SourceProblemEvent = CustomEvent<SourceProblem>;

/** One line for people out of whatever a source failed with. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unknown error';
}

const codeOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERROR';
};

/**
 * What `<jobwatch-job>` and `<jobwatch-jobs>` share: where snapshots come from, and a
 * {@link SnapshotController} that follows them while the element is on the page.
 *
 * Sources, in this order of preference: the daemon's event stream (`daemon` plus
 * `ticketProvider`); direct mode (`admin-url` plus `tokenProvider`); any
 * `Observable<Snapshot>` in `source`.
 */
export abstract class JobwatchLiveElement extends LitElement {
  static override properties = {
    daemon: {},
    ticketProvider: { attribute: false },
    adminUrl: { attribute: 'admin-url' },
    tokenProvider: { attribute: false },
    source: { attribute: false },
    deployment: {},
    messages: { attribute: false },
    theme: { reflect: true },
  };

  /** Base URL of a jobwatch daemon whose event stream to read (`https://jobs.example.com`). */
  declare daemon: string | undefined;
  /**
   * Returns a short-lived ticket for the daemon's event stream (from the page's own server,
   * which holds the API key). Without one the stream is opened without credentials.
   */
  declare ticketProvider: TicketProvider | undefined;
  /** Direct mode: the admin root (`https://host/<context>/admin`), used with `tokenProvider`. */
  declare adminUrl: string | undefined;
  /** Direct mode: returns a token the page already holds (never put into a URL). */
  declare tokenProvider: TokenProvider | undefined;
  /** Any `Observable<Snapshot>`; used when neither `daemon` nor `admin-url` is set. */
  declare source: SnapshotSource | undefined;
  /** The deployment's name, to filter a daemon's stream. */
  declare deployment: string | undefined;
  /** Strings to use instead of the language's (any subset of {@link Messages}). */
  declare messages: Partial<Messages> | undefined;
  /** Colour scheme. @default 'auto' */
  declare theme: Theme | undefined;

  /** Follows the source; subclasses render from it. */
  protected readonly snapshots: SnapshotController;

  #stream: DaemonStreamState | undefined;
  #problem: SourceProblem | undefined;
  /** The code and finality of the last problem announced with `jobwatch-error`. */
  #announced: string | undefined;

  constructor(limit?: number) {
    super();
    this.snapshots = new SnapshotController(this, limit === undefined ? {} : { limit });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    followLang(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    unfollowLang(this);
  }

  /** What to ask the source for, beyond where it is. */
  protected abstract request(): Pick<SourceRequest, 'jobid' | 'all'> | undefined;

  /** Whether a change of these properties calls for another source. */
  protected sourceChanged(changed: PropertyValues<this>): boolean {
    return SOURCE_KEYS.some((key) => changed.has(key));
  }

  /**
   * What is wrong with the source, if anything: it stopped with an error, the daemon's
   * stream cannot be reached, or the daemon does not watch this job.
   */
  get problem(): SourceProblem | undefined {
    return this.#problem;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.sourceChanged(changed)) {
      const request = this.request();
      this.#stream = undefined;
      const onState = (state: DaemonStreamState) => {
        // A replaced source may still report once; only the current one counts.
        if (this.snapshots.source !== source) return;
        this.#stream = state;
        this.requestUpdate();
      };
      const source = request
        ? sourceFor({
            ...request,
            daemon: this.daemon,
            ticketProvider: this.ticketProvider,
            adminUrl: this.adminUrl,
            tokenProvider: this.tokenProvider,
            source: this.source,
            deployment: this.deployment,
            onState,
          })
        : undefined;
      this.snapshots.source = source;
    }
    this.#problem = this.#findProblem();
  }

  #findProblem(): SourceProblem | undefined {
    const m = messagesFor(inheritedLang(this), this.messages);
    const error = this.snapshots.error;
    if (error !== undefined)
      return {
        code: codeOf(error),
        message: fill(m.sourceError, { message: describeError(error) }),
        final: true,
      };
    const stream = this.#stream;
    if (stream?.connection === 'unreachable')
      return {
        code: stream.error?.code ?? 'TRANSPORT',
        message: fill(m.sourceRetrying, { message: stream.error?.message ?? '' }),
        final: false,
      };
    const jobid = this.request()?.jobid;
    if (jobid !== undefined && stream?.unwatched.includes(jobid))
      return { code: 'JOB_NOT_WATCHED', message: fill(m.jobNotWatched, { jobid }), final: false };
    return undefined;
  }

  /** Tells the page about a new problem, once. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    const problem = this.#problem;
    const key = problem && `${problem.code} ${problem.final}`;
    if (key === this.#announced) return;
    this.#announced = key;
    if (problem)
      this.dispatchEvent(
        new CustomEvent<SourceProblem>('jobwatch-error', {
          detail: problem,
          bubbles: true,
          composed: true,
        }),
      );
  }

  /** The `error` part, when there is a problem. */
  protected renderProblem() {
    const problem = this.#problem;
    if (!problem) return nothing;
    return html`<p part="error" class=${problem.final ? 'error' : 'error retrying'} role="alert">${problem.message}</p>`;
  }
}
