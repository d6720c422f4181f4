import { LitElement, type PropertyValues } from 'lit';
import { SnapshotController, type SnapshotSource } from './controller.js';
import { followLang, type Messages, unfollowLang } from './messages.js';
import {
  type SourceRequest,
  sourceFor,
  type TicketProvider,
  type TokenProvider,
} from './sources.js';
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

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (this.sourceChanged(changed)) {
      const request = this.request();
      this.snapshots.source = request
        ? sourceFor({
            ...request,
            daemon: this.daemon,
            ticketProvider: this.ticketProvider,
            adminUrl: this.adminUrl,
            tokenProvider: this.tokenProvider,
            source: this.source,
            deployment: this.deployment,
          })
        : undefined;
    }
  }
}
