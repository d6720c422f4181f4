import { css, html, nothing, type PropertyValues } from 'lit';
import { JobwatchLiveElement } from './live-element.js';
import { inheritedLang, messagesFor } from './messages.js';
import type { SourceRequest } from './sources.js';
import { themeStyles } from './styles.js';

/** Parts of `<jobwatch-status>` that `<jobwatch-job>` and `<jobwatch-jobs>` pass through. */
export const STATUS_PARTS =
  'card, header, status, icon, time, eta, stale, operation, details, result, messages, trouble, progress, progress-bar, step, results, result-link';

/**
 * `<jobwatch-job job-id="…">`: one job, live. Follows the daemon's event stream (`daemon`
 * plus `ticketProvider`), the admin API directly (`admin-url` plus `tokenProvider`), or any
 * `Observable<Snapshot>` in `source`, and shows the job with `<jobwatch-status>`.
 *
 * It holds no pacing or retry logic; the source does.
 *
 * @example
 * ```html
 * <jobwatch-job daemon="https://jobs.example.com" job-id="j2bcbcd49-83a4-4cc1-a034-40e4a266e96d"></jobwatch-job>
 * <script type="module">
 *   document.querySelector('jobwatch-job').ticketProvider = () =>
 *     fetch('/jobwatch-ticket', { method: 'POST' }).then((r) => r.json()).then((t) => t.ticket);
 * </script>
 * ```
 *
 * @customElement jobwatch-job
 * @fires jobwatch-change - a new snapshot arrived (detail: the snapshot)
 * @fires jobwatch-end - the job ended (detail: the terminal snapshot)
 * @fires jobwatch-error - something is wrong with the source (detail: a `SourceProblem`): the
 *   daemon's stream cannot be reached, the daemon does not watch the job, or watching stopped
 * @csspart card - the outer box (and every part of `<jobwatch-status>`)
 * @csspart error - what is wrong with the source: why watching stopped, or why nothing arrives
 */
export class JobwatchJob extends JobwatchLiveElement {
  static override properties = {
    ...JobwatchLiveElement.properties,
    jobId: { attribute: 'job-id' },
    compact: { type: Boolean, reflect: true },
    status: { reflect: true },
  };

  /** The styles of `<jobwatch-job>`'s shadow root (themes, parts, custom properties). */
  static override styles = [
    themeStyles,
    css`
      .error {
        margin: var(--_gap) 0 0;
        color: var(--_failure);
      }
      .retrying {
        color: var(--_warning);
      }
    `,
  ];

  /** The job to show. */
  declare jobId: string | undefined;
  /** One line: status, operation and time only. */
  declare compact: boolean;
  /** Reflected: the job's status verbatim; `pending` from the start, until the first body. */
  declare status: string | undefined;

  constructor() {
    super();
    this.compact = false;
  }

  protected override request(): Pick<SourceRequest, 'jobid'> | undefined {
    return this.jobId ? { jobid: this.jobId } : undefined;
  }

  protected override sourceChanged(changed: PropertyValues<this>): boolean {
    return changed.has('jobId') || super.sourceChanged(changed);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    this.status = this.jobId ? (this.snapshots.latest?.status ?? 'pending') : undefined;
  }

  protected override render() {
    const m = messagesFor(inheritedLang(this), this.messages);
    const latest = this.snapshots.latest;
    // Until the first snapshot, a watched job is waiting, not missing.
    const messages =
      latest || !this.jobId || this.snapshots.error
        ? this.messages
        : { ...this.messages, noJob: m.statusPending };
    return html`<jobwatch-status
        exportparts=${STATUS_PARTS}
        .snapshot=${latest}
        .messages=${messages}
        theme=${this.theme ?? nothing}
        ?compact=${this.compact}
      ></jobwatch-status>
      ${this.renderProblem()}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'jobwatch-job': JobwatchJob;
  }
}
