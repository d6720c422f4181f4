import type { Snapshot } from '@jobwatch/schema';
import { css, html, nothing, type PropertyValues } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { STATUS_PARTS } from './job-element.js';
import { JobwatchLiveElement } from './live-element.js';
import { fill, inheritedLang, type Messages, messagesFor } from './messages.js';
import type { SourceRequest } from './sources.js';
import { themeStyles } from './styles.js';
import { describeSnapshot, formatDuration } from './view.js';

/** Which jobs `<jobwatch-jobs>` shows. */
export const JobFilter = {
  ALL: 'all',
  RUNNING: 'running',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
} as const;
/** One of {@link JobFilter}. */
export type JobFilterValue = (typeof JobFilter)[keyof typeof JobFilter];

const FILTER_LABELS: Readonly<Record<JobFilterValue, keyof Messages>> = {
  all: 'filterAll',
  running: 'filterRunning',
  succeeded: 'filterSucceeded',
  failed: 'filterFailed',
  cancelled: 'filterCancelled',
};

/** Whether a snapshot passes a filter. */
export function matchesFilter(snapshot: Snapshot, filter: JobFilterValue): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'running':
      return !snapshot.terminal;
    case 'succeeded':
    case 'failed':
    case 'cancelled':
      return snapshot.outcome === filter;
  }
}

const keyOf = (s: Snapshot) => `${s.deployment}/${s.jobid}`;

/**
 * `<jobwatch-jobs>`: every job the source knows, live, newest change first, filterable by
 * outcome. Each row opens to the job's details (Enter or Space); arrow keys, Home and End
 * move between rows. A polite live region announces jobs that end, not every change.
 *
 * Sources as for `<jobwatch-job>`: `daemon` plus `ticketProvider` (every job the daemon
 * watches), `admin-url` plus `tokenProvider` (discovers the deployment's jobs), or `source`.
 *
 * @example
 * ```html
 * <jobwatch-jobs daemon="https://jobs.example.com" filter="failed"></jobwatch-jobs>
 * <script type="module">
 *   const list = document.querySelector('jobwatch-jobs');
 *   list.ticketProvider = () =>
 *     fetch('/jobwatch-ticket', { method: 'POST' }).then((r) => r.json()).then((t) => t.ticket);
 *   list.addEventListener('jobwatch-end', (e) => console.log(e.detail.jobid, e.detail.status));
 * </script>
 * ```
 *
 * @customElement jobwatch-jobs
 * @fires jobwatch-change - a job's snapshot changed (detail: the snapshot)
 * @fires jobwatch-end - a job ended (detail: the terminal snapshot)
 * @fires jobwatch-error - something is wrong with the source (detail: a `SourceProblem`): the
 *   daemon's stream cannot be reached, or watching stopped
 * @csspart toolbar - the filter buttons and count
 * @csspart filter - each filter button
 * @csspart list - the list of jobs
 * @csspart row - one job's summary line
 * @csspart empty - shown when no job matches
 * @csspart error - what is wrong with the source: why watching stopped, or why nothing arrives
 */
export class JobwatchJobs extends JobwatchLiveElement {
  static override properties = {
    ...JobwatchLiveElement.properties,
    filter: { reflect: true },
    limit: { type: Number },
  };

  /** The styles of `<jobwatch-jobs>`'s shadow root (themes, parts, custom properties). */
  static override styles = [
    themeStyles,
    css`
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: calc(var(--_gap) / 2);
        margin-block-end: var(--_gap);
      }
      .toolbar button {
        font: inherit;
        color: var(--_fg);
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        padding: 0.15em 0.7em;
        cursor: pointer;
      }
      .toolbar button[aria-pressed='true'] {
        border-color: var(--_fg);
        font-weight: 600;
        box-shadow: inset 0 -2px 0 var(--_fg);
      }
      .count {
        margin-inline-start: auto;
        color: var(--_muted);
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: calc(var(--_gap) / 2);
      }
      summary {
        list-style: none;
        cursor: pointer;
        border-radius: var(--_radius);
      }
      summary::-webkit-details-marker {
        display: none;
      }
      details[open] > summary jobwatch-status {
        --jobwatch-radius: var(--_radius) var(--_radius) 0 0;
      }
      .empty,
      .error {
        color: var(--_muted);
        margin: var(--_gap) 0;
      }
      .error {
        color: var(--_failure);
      }
      .retrying {
        color: var(--_warning);
      }
      .sr-only {
        position: absolute;
      }
      @media (forced-colors: active) {
        .toolbar button[aria-pressed='true'] {
          border-color: Highlight;
        }
      }
    `,
  ];

  /** Which jobs to show. @default 'all' */
  declare filter: JobFilterValue;
  /** How many jobs to keep; ended jobs that changed longest ago go first. @default 500 */
  declare limit: number;

  #active: string | undefined;
  #open = new Set<string>();
  #ended = new Map<string, boolean>();
  #announcement = '';

  constructor() {
    super();
    this.filter = 'all';
    this.limit = 500;
  }

  protected override request(): Pick<SourceRequest, 'all'> {
    return { all: true };
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('limit')) this.snapshots.limit = this.limit;
    super.willUpdate(changed);
    this.#announceEnds();
  }

  /** Announces jobs seen running that have now ended; jobs that had ended before we looked stay quiet. */
  #announceEnds(): void {
    const m = this.#messages();
    const lang = inheritedLang(this);
    const ends: string[] = [];
    for (const s of this.snapshots.snapshots) {
      const key = keyOf(s);
      const before = this.#ended.get(key);
      this.#ended.set(key, s.terminal);
      if (before === false && s.terminal) {
        const v = describeSnapshot(s, Date.now(), m);
        ends.push(
          fill(m.announceEnd, {
            job: v.operation?.serviceName ?? s.jobid,
            status: v.label,
            duration: formatDuration(v.elapsedMs ?? 0, lang),
          }),
        );
      }
    }
    if (this.#ended.size > this.limit * 2) {
      const live = new Set(this.snapshots.snapshots.map(keyOf));
      for (const key of this.#ended.keys()) if (!live.has(key)) this.#ended.delete(key);
    }
    if (ends.length) this.#announcement = ends.join('. ');
  }

  #messages(): Messages {
    return messagesFor(inheritedLang(this), this.messages);
  }

  #visible(): Snapshot[] {
    const filter = this.filter in FILTER_LABELS ? this.filter : 'all';
    return this.snapshots.snapshots.filter((s) => matchesFilter(s, filter));
  }

  protected override render() {
    const m = this.#messages();
    const jobs = this.#visible();
    const active = jobs.some((s) => keyOf(s) === this.#active)
      ? this.#active
      : jobs[0] && keyOf(jobs[0]);
    return html`<div part="toolbar" class="toolbar" role="group" aria-label=${m.filterLabel}>
        ${(Object.keys(FILTER_LABELS) as JobFilterValue[]).map(
          (f) =>
            html`<button part="filter" type="button" aria-pressed=${String(this.filter === f)} data-filter=${f} @click=${() => this.#setFilter(f)}>
              ${m[FILTER_LABELS[f]]}
            </button>`,
        )}
        <span class="count">${fill(m.listCount, { count: jobs.length })}</span>
      </div>
      ${
        jobs.length
          ? html`<ul part="list" aria-label=${m.listLabel} @keydown=${this.#onKeydown}>
              ${repeat(jobs, keyOf, (s) => {
                const key = keyOf(s);
                return html`<li data-key=${key} data-status=${s.status ?? 'pending'}>
                  <details ?open=${this.#open.has(key)} @toggle=${(e: Event) => this.#onToggle(key, e)}>
                    <summary part="row" tabindex=${key === active ? '0' : '-1'} @focus=${() => {
                      this.#active = key;
                    }}>
                      <jobwatch-status compact quiet exportparts=${STATUS_PARTS} .snapshot=${s} .messages=${this.messages} theme=${this.theme ?? nothing}></jobwatch-status>
                    </summary>
                    ${this.#open.has(key) ? html`<jobwatch-status detail quiet .snapshot=${s} .messages=${this.messages} theme=${this.theme ?? nothing}></jobwatch-status>` : nothing}
                  </details>
                </li>`;
              })}
            </ul>`
          : html`<p part="empty" class="empty">${m.listEmpty}</p>`
      }
      ${this.renderProblem()}
      <div role="status" aria-live="polite" aria-atomic="true" class="sr-only" part="announcer">${this.#announcement}</div>`;
  }

  #setFilter(filter: JobFilterValue): void {
    this.filter = filter;
  }

  #onToggle(key: string, event: Event): void {
    const open = (event.currentTarget as HTMLDetailsElement).open;
    if (open === this.#open.has(key)) return;
    if (open) this.#open.add(key);
    else this.#open.delete(key);
    this.requestUpdate();
  }

  #onKeydown(event: KeyboardEvent): void {
    const rows = [...(this.renderRoot.querySelectorAll<HTMLElement>('summary') ?? [])];
    const at = rows.findIndex(
      (row) => row === this.renderRoot.querySelector(':focus') || row.matches(':focus'),
    );
    if (at < 0) return;
    let next: number;
    switch (event.key) {
      case 'ArrowDown':
        next = Math.min(rows.length - 1, at + 1);
        break;
      case 'ArrowUp':
        next = Math.max(0, at - 1);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = rows.length - 1;
        break;
      default:
        return;
    }
    event.preventDefault();
    const row = rows[next];
    if (!row) return;
    for (const r of rows) r.tabIndex = r === row ? 0 : -1;
    this.#active = row.closest('li')?.dataset.key;
    row.focus();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'jobwatch-jobs': JobwatchJobs;
  }
}
