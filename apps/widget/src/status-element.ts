import type { Snapshot } from '@jobwatch/schema';
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import {
  fill,
  followLang,
  inheritedLang,
  type Messages,
  messagesFor,
  unfollowLang,
} from './messages.js';
import { icon, themeStyles } from './styles.js';
import {
  asSnapshot,
  describeSnapshot,
  etaText,
  formatDuration,
  formatPercent,
  formatTime,
  type JobView,
} from './view.js';

/** `light`, `dark`, or `auto` (follow `prefers-color-scheme`, the default). */
export type Theme = 'light' | 'dark' | 'auto';

/**
 * `<jobwatch-status>`: shows one job's snapshot. Display only: it does no I/O and fires no
 * events; give it a `snapshot` (or use `<jobwatch-job>`, which does the watching).
 *
 * What it shows: the status as text, icon and colour; the elapsed time, ticking while the
 * job runs, and the final duration; the operation (service, type, operation); who started
 * it; localized start and end times; the edited service's name and state or a backup's
 * stages; a failed job's messages; and a stale marker with the trouble while the source
 * is retrying. Where the source reports progress (ArcGIS Server admin jobs' steps,
 * geoprocessing jobs' percentage), a labelled progress bar and the current step; a
 * succeeded geoprocessing job's result links (only `http:` and `https:` ones are links). A
 * polite `role="status"` live region announces status changes, the end, staleness and
 * progress at 25, 50, 75 and 100 % — not every poll.
 *
 * @example
 * ```html
 * <jobwatch-status></jobwatch-status>
 * <script type="module">
 *   document.querySelector('jobwatch-status').snapshot = snapshot;
 * </script>
 * ```
 *
 * @customElement jobwatch-status
 * @csspart card - the outer box
 * @csspart header - the status line
 * @csspart status - the status icon and label
 * @csspart icon - the status icon
 * @csspart time - elapsed time or final duration
 * @csspart eta - when a running job will likely end, with its spread and basis (only with history)
 * @csspart stale - the stale marker
 * @csspart operation - the operation and service
 * @csspart details - who started it, when it started and ended, the job id
 * @csspart result - the result summary
 * @csspart reason - why a failed or cancelled job ended, in the server's words
 * @csspart messages - the job's messages
 * @csspart trouble - what the source is retrying
 * @csspart progress - the progress row: bar, percentage and current step (only where the source reports progress)
 * @csspart progress-bar - the `<progress>` bar itself
 * @csspart step - the current step (`Step 2 of 3: …`)
 * @csspart results - a succeeded geoprocessing job's results
 * @csspart result-link - one result's link
 * @cssprop --jobwatch-bg - background
 * @cssprop --jobwatch-fg - text colour
 * @cssprop --jobwatch-muted - secondary text
 * @cssprop --jobwatch-border - borders
 * @cssprop --jobwatch-running - running and submitted jobs
 * @cssprop --jobwatch-success - completed jobs
 * @cssprop --jobwatch-failure - failed and timed-out jobs
 * @cssprop --jobwatch-cancelled - cancelled jobs
 * @cssprop --jobwatch-warning - cancelling, unavailable and stale
 * @cssprop --jobwatch-unknown - unknown statuses
 * @cssprop --jobwatch-focus - focus ring
 * @cssprop --jobwatch-radius - corner radius
 * @cssprop --jobwatch-gap - spacing
 * @cssprop --jobwatch-font - font shorthand
 * @cssprop --jobwatch-progress-height - the progress bar's height
 */
export class JobwatchStatus extends LitElement {
  static override properties = {
    snapshot: { attribute: false },
    messages: { attribute: false },
    now: { attribute: false },
    compact: { type: Boolean, reflect: true },
    detail: { type: Boolean, reflect: true },
    quiet: { type: Boolean, reflect: true },
    theme: { reflect: true },
    status: { reflect: true },
    stale: { type: Boolean, reflect: true },
  };

  /** The styles of `<jobwatch-status>`'s shadow root (themes, parts, custom properties). */
  static override styles = [
    themeStyles,
    css`
      .card {
        position: relative;
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-inline-start: 4px solid var(--_tone);
        border-radius: var(--_radius);
        padding: calc(var(--_gap) * 1.5);
        display: grid;
        gap: var(--_gap);
      }
      :host([compact]) .card {
        padding: var(--_gap) calc(var(--_gap) * 1.5);
        gap: calc(var(--_gap) / 2);
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: var(--_gap);
      }
      .status {
        display: inline-flex;
        align-items: center;
        gap: 0.35em;
        font-weight: 600;
        color: var(--_tone);
      }
      .time {
        margin-inline-start: auto;
        color: var(--_muted);
        font-variant-numeric: tabular-nums;
      }
      .eta {
        flex-basis: 100%;
      }
      .stale {
        display: inline-flex;
        align-items: center;
        gap: 0.25em;
        padding: 0 0.4em;
        border: 1px dashed var(--_warning);
        border-radius: var(--_radius);
        color: var(--_warning);
        font-weight: 600;
      }
      .operation strong {
        font-weight: 600;
      }
      .muted,
      dt {
        color: var(--_muted);
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.15em var(--_gap);
        margin: 0;
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      ul,
      p {
        margin: 0;
        padding-inline-start: 1.2em;
      }
      h3 {
        font-size: inherit;
        margin: 0;
        color: var(--_muted);
        font-weight: 600;
      }
      .messages li.error,
      .tone-failure .messages li.plain,
      .tone-failure .reason {
        color: var(--_failure);
      }
      .messages li.warning {
        color: var(--_warning);
      }
      .reason {
        margin: 0;
      }
      .trouble {
        margin: 0;
        color: var(--_warning);
      }
      :host([stale]) .card {
        border-style: dashed;
        border-inline-start-style: solid;
      }
      code {
        font: 0.9em ui-monospace, monospace;
      }
      .progress {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: calc(var(--_gap) / 2) var(--_gap);
      }
      progress {
        flex: 1 1 8rem;
        block-size: var(--jobwatch-progress-height, 0.5rem);
        appearance: none;
        border: none;
        border-radius: var(--_radius);
        background: var(--_border);
        overflow: hidden;
      }
      progress::-webkit-progress-bar {
        background: var(--_border);
      }
      progress::-webkit-progress-value {
        background: var(--_tone);
      }
      progress::-moz-progress-bar {
        background: var(--_tone);
      }
      .percent,
      .step {
        color: var(--_muted);
        font-variant-numeric: tabular-nums;
      }
      .step {
        flex-basis: 100%;
      }
      :host([compact]) .step {
        display: none;
      }
      .results a {
        color: var(--_running);
        overflow-wrap: anywhere;
      }
      @media (forced-colors: active) {
        progress {
          forced-color-adjust: auto;
          border: 1px solid CanvasText;
        }
      }
    `,
  ];

  /** The snapshot to show. */
  declare snapshot: Snapshot | undefined;
  /** Strings to use instead of the language's (any subset of {@link Messages}). */
  declare messages: Partial<Messages> | undefined;
  /** The clock used for elapsed time (epoch ms). @default Date.now */
  declare now: () => number;
  /** One line: status, operation and time only. */
  declare compact: boolean;
  /** The details only (who, when, result, messages), without the status line: for a list's open row. */
  declare detail: boolean;
  /** No live-region announcements (a surrounding list announces instead). */
  declare quiet: boolean;
  /** Colour scheme. @default 'auto' */
  declare theme: Theme | undefined;
  /** Reflected: the job's status verbatim (`EXECUTING`, `TIMED OUT`, …), `pending` before the first. */
  declare status: string | undefined;
  /** Reflected: whether the snapshot is stale. */
  declare stale: boolean;

  #announcement = '';
  #lastKey: string | undefined;
  /** The last progress milestone reached (0–4: none, 25, 50, 75, 100 %). */
  #milestone = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.now = Date.now;
    this.compact = false;
    this.detail = false;
    this.quiet = false;
    this.stale = false;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    unfollowLang(this);
    this.#tick(false);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    followLang(this);
    this.#tick(this.#running());
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('snapshot')) return;
    const s = asSnapshot(this.snapshot);
    this.status = s ? (s.status ?? 'pending') : undefined;
    this.stale = s?.stale ?? false;
    this.#announce(s);
    this.#tick(this.#running());
  }

  #running(): boolean {
    const s = asSnapshot(this.snapshot);
    return this.isConnected && !!s?.job && !s.terminal;
  }

  /** Keeps a one-second tick while a job runs, so its elapsed time moves. */
  #tick(on: boolean): void {
    if (on && this.#timer === undefined)
      this.#timer = setInterval(() => this.requestUpdate(), 1000);
    else if (!on && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * Updates the live region on milestones only: another job, another status, stale or not,
   * and progress passing 25, 50, 75 or 100 % (each once, never on every poll).
   */
  #announce(s: Snapshot | undefined): void {
    if (!s) return;
    const key = `${s.jobid}\u0000${s.status}\u0000${s.stale}`;
    const m = this.#messages();
    const lang = inheritedLang(this);
    const view = describeSnapshot(s, this.now(), m);
    const job = view.operation?.serviceName ?? s.jobid;
    const milestone = view.progress === null ? 0 : Math.floor(view.progress * 4 + 1e-9);
    const previous = this.#lastKey?.split('\u0000');
    const sameJob = previous !== undefined && previous[0] === s.jobid;
    if (key === this.#lastKey) {
      if (milestone <= this.#milestone) return;
      this.#milestone = milestone;
      this.#announcement = fill(m.announceProgress, {
        job,
        percent: formatPercent(milestone / 4, lang),
      });
      return;
    }
    this.#lastKey = key;
    // A status change is announced on its own; the milestone it reached is not repeated.
    this.#milestone = sameJob ? Math.max(this.#milestone, milestone) : milestone;
    const sameJobAndStatus = sameJob && previous[1] === String(s.status);
    if (sameJobAndStatus) {
      this.#announcement = fill(s.stale ? m.announceStale : m.announceFresh, { job });
    } else if (view.terminal) {
      this.#announcement = fill(m.announceEnd, {
        job,
        status: view.label,
        duration: formatDuration(view.elapsedMs ?? 0, lang),
      });
    } else {
      this.#announcement = fill(m.announceStatus, { job, status: view.label });
    }
  }

  #messages(): Messages {
    return messagesFor(inheritedLang(this), this.messages);
  }

  protected override render() {
    const m = this.#messages();
    const s = asSnapshot(this.snapshot);
    const live = this.quiet
      ? nothing
      : html`<div role="status" aria-live="polite" aria-atomic="true" class="sr-only" part="announcer">${this.#announcement}</div>`;
    if (!s) {
      return html`<div part="card" class="card tone-pending"><span class="muted">${m.noJob}</span></div>${live}`;
    }
    const lang = inheritedLang(this);
    const v = describeSnapshot(s, this.now(), m);
    return html`<article part="card" class="card tone-${v.tone}" aria-label=${`${v.label} ${s.jobid}`}>
        ${
          this.detail
            ? nothing
            : html`<header part="header">
                <span part="status" class="status">${icon(v.tone)}<span class="label">${v.label}</span></span>
                ${v.stale ? html`<span part="stale" class="stale">${icon('warning')}${m.stale}</span>` : nothing}
                ${this.#renderTime(v, m, lang)}
                ${this.#renderEta(v, m, lang)}
              </header>
              ${this.#renderProgress(v, m, lang)}
              ${this.#renderOperation(v, m)}`
        }
        ${this.compact ? nothing : this.#renderDetails(v, m, lang)}
        ${v.trouble ? html`<p part="trouble" class="trouble">${v.trouble}</p>` : nothing}
      </article>${live}`;
  }

  #renderTime(v: JobView, m: Messages, lang: string) {
    if (v.elapsedMs === null) return nothing;
    const label = v.terminal ? m.duration : m.elapsed;
    return html`<span part="time" class="time"
      ><span class="muted">${label}</span> <time datetime=${`PT${Math.floor(v.elapsedMs / 1000)}S`}>${formatDuration(v.elapsedMs, lang)}</time></span
    >`;
  }

  #renderEta(v: JobView, m: Messages, lang: string) {
    if (!v.eta) return nothing;
    const { text, detail } = etaText(v.eta, m, lang);
    return html`<span part="eta" class="eta">${text} <span class="muted">(${detail})</span></span>`;
  }

  /** The progress bar (a labelled native `<progress>`), its percentage and the current step. */
  #renderProgress(v: JobView, m: Messages, lang: string) {
    const step = v.step;
    const stepText = step
      ? [
          step.index !== null ? fill(m.step, { index: step.index, total: step.total }) : '',
          step.text ?? '',
        ]
          .filter(Boolean)
          .join(': ')
      : '';
    if (v.progress === null && !stepText) return nothing;
    const percent = v.progress === null ? '' : formatPercent(v.progress, lang);
    return html`<div part="progress" class="progress">
      ${
        v.progress === null
          ? nothing
          : html`<progress part="progress-bar" max="100" .value=${Math.round(v.progress * 100)}
              aria-label=${m.progress} aria-valuetext=${stepText ? `${percent} · ${stepText}` : percent}></progress
            ><span class="percent" aria-hidden="true">${percent}</span>`
      }
      ${stepText ? html`<span part="step" class="step">${stepText}</span>` : nothing}
    </div>`;
  }

  #renderOperation(v: JobView, m: Messages) {
    const op = v.operation;
    if (!op) return nothing;
    if (op.serviceName) {
      return html`<div part="operation" class="operation">
        ${v.operationLabel} <strong>${op.serviceName}</strong>
        <span class="muted">${op.serviceType}${op.folder ? html` · ${m.folder} ${op.folder}` : nothing}</span>
      </div>`;
    }
    if (op.store) {
      return html`<div part="operation" class="operation">
        ${v.operationLabel} <span class="muted">${m.backupStore}</span> <strong>${op.store}</strong>
      </div>`;
    }
    // A named operation (`Delete services`) says it all; an unfamiliar one shows its path too.
    const named = v.operationLabel !== op.operation;
    return html`<div part="operation" class="operation">
      ${v.operationLabel}${named ? nothing : html` <code class="muted">${op.path}</code>`}
    </div>`;
  }

  #renderDetails(v: JobView, m: Messages, lang: string) {
    return html`${v.reason ? html`<p part="reason" class="reason"><strong>${m.reason}</strong> ${v.reason}</p>` : nothing}<dl part="details">
        ${v.username ? html`<dt>${m.startedBy}</dt><dd>${v.username}</dd>` : nothing}
        ${v.startedAt ? html`<dt>${m.started}</dt><dd><time datetime=${new Date(v.startedAt).toISOString()}>${formatTime(v.startedAt, lang)}</time></dd>` : nothing}
        ${v.endedAt ? html`<dt>${m.ended}</dt><dd><time datetime=${new Date(v.endedAt).toISOString()}>${formatTime(v.endedAt, lang)}</time></dd>` : nothing}
        <dt>${m.jobId}</dt><dd><code>${v.jobid}</code></dd>
      </dl>
      ${
        v.resultService || v.stages.length
          ? html`<section part="result" class="result">
              <h3>${m.result}</h3>
              ${v.resultService ? html`<p>${v.resultService.state ? fill(m.resultService, v.resultService) : v.resultService.name}</p>` : nothing}
              ${
                v.stages.length
                  ? html`<ul aria-label=${m.stages}>
                      ${v.stages.map((st) => html`<li>${fill(m.stage, st).trim()}</li>`)}
                    </ul>`
                  : nothing
              }
            </section>`
          : nothing
      }
      ${
        v.results.length
          ? html`<section part="results" class="results">
              <h3>${m.results}</h3>
              <ul>
                ${v.results.map(
                  (r) =>
                    html`<li>${
                      r.href
                        ? html`<a part="result-link" href=${r.href} target="_blank" rel="noopener noreferrer">${r.name}</a>`
                        : r.name
                    }</li>`,
                )}
              </ul>
            </section>`
          : nothing
      }
      ${
        v.messages.length
          ? html`<section part="messages" class="messages">
              <h3>${m.failureMessages}</h3>
              <ul>
                ${v.messages.map((msg) => html`<li class=${msg.severity ?? 'plain'}>${msg.text}</li>`)}
              </ul>
            </section>`
          : nothing
      }`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'jobwatch-status': JobwatchStatus;
  }
}
