/**
 * Every string the elements show, per language. A page overrides any of them through an
 * element's `messages` property; templates fill `{name}` placeholders.
 */

/** The strings of one language. Templates use `{placeholder}`s, filled by {@link fill}. */
export interface Messages {
  /** Status labels, by status. Unknown statuses use {@link Messages.statusUnknown}. */
  readonly SUBMITTED: string;
  readonly EXECUTING: string;
  readonly CANCELLING: string;
  readonly CANCELLED: string;
  readonly FAILED: string;
  readonly COMPLETED: string;
  readonly UNAVAILABLE: string;
  readonly 'TIMED OUT': string;
  readonly ERROR: string;
  /** A status jobwatch does not know: `{status}` is the server's value, verbatim. */
  readonly statusUnknown: string;
  /** Before the first job body was read. */
  readonly statusPending: string;
  /** Shown when an element has nothing to show yet. */
  readonly noJob: string;
  readonly elapsed: string;
  readonly duration: string;
  readonly started: string;
  readonly ended: string;
  readonly startedBy: string;
  readonly jobId: string;
  readonly operation: string;
  readonly service: string;
  readonly serviceType: string;
  readonly folder: string;
  readonly backupStore: string;
  readonly result: string;
  /** The edited service's name and state: `{name}`, `{state}`. */
  readonly resultService: string;
  readonly stages: string;
  /** One backup stage: `{name}`, `{state}`, `{duration}`. */
  readonly stage: string;
  readonly failureMessages: string;
  /** The label before why a job failed or was cancelled, in the server's words. */
  readonly reason: string;
  /** The stale marker's label. */
  readonly stale: string;
  /** What the stale marker says: `{message}`, `{attempts}`. */
  readonly staleDetail: string;
  /** Live-region announcement of a status change: `{job}`, `{status}`. */
  readonly announceStatus: string;
  /** Live-region announcement of an end: `{job}`, `{status}`, `{duration}`. */
  readonly announceEnd: string;
  /** Live-region announcement when the source gets into trouble: `{job}`. */
  readonly announceStale: string;
  /** Live-region announcement when the source is back: `{job}`. */
  readonly announceFresh: string;
  /** A service operation: `{operation}` on `{service}`. */
  readonly operationOnService: string;
  /** Operation names, by the last word of `operationURI`. Others are shown verbatim. */
  readonly opEdit: string;
  readonly opStart: string;
  readonly opStop: string;
  readonly opDeleteServices: string;
  readonly opCreate: string;
  /** The list's accessible name. */
  readonly listLabel: string;
  /** The status filter's label. */
  readonly filterLabel: string;
  readonly filterAll: string;
  readonly filterRunning: string;
  readonly filterSucceeded: string;
  readonly filterFailed: string;
  readonly filterCancelled: string;
  /** The list when no job matches: shown in place of the list. */
  readonly listEmpty: string;
  /** `{count}` jobs shown. */
  readonly listCount: string;
  /** The source ended with an error: `{message}`. */
  readonly sourceError: string;
  /** The source cannot be reached but keeps trying (the daemon's stream is unreachable): `{message}`. */
  readonly sourceRetrying: string;
  /** The daemon does not watch the element's job: `{jobid}`. */
  readonly jobNotWatched: string;
  /** Time likely left, from earlier jobs of the kind: `{left}`. */
  readonly etaLeft: string;
  /** A job past the middle of its estimate, before its end. */
  readonly etaDue: string;
  /** A job that has run longer than 9 in 10 earlier ones of its kind. */
  readonly etaOverdue: string;
  /** The estimate's spread and basis: `{low}`, `{high}`, `{basis}`. */
  readonly etaUsually: string;
  /** An overdue estimate's basis: `{basis}`. */
  readonly etaFrom: string;
  /** The progress bar's accessible name. */
  readonly progress: string;
  /** Live-region announcement of a progress milestone (25, 50, 75, 100 %): `{job}`, `{percent}`. */
  readonly announceProgress: string;
  /** The current step, where the source counts them: `{index}`, `{total}`. */
  readonly step: string;
  /** The heading of a geoprocessing job's result links. */
  readonly results: string;
}

/** English, the fallback for every language without a catalogue. */
export const en: Messages = {
  SUBMITTED: 'Submitted',
  EXECUTING: 'Running',
  CANCELLING: 'Cancelling',
  CANCELLED: 'Cancelled',
  FAILED: 'Failed',
  COMPLETED: 'Completed',
  UNAVAILABLE: 'Status unavailable',
  'TIMED OUT': 'Timed out',
  ERROR: 'Error',
  statusUnknown: 'Unknown status: {status}',
  statusPending: 'Waiting for first status',
  noJob: 'No job to show',
  elapsed: 'Elapsed',
  duration: 'Took',
  started: 'Started',
  ended: 'Ended',
  startedBy: 'Started by',
  jobId: 'Job ID',
  operation: 'Operation',
  service: 'Service',
  serviceType: 'Type',
  folder: 'Folder',
  backupStore: 'Backup store',
  result: 'Result',
  resultService: '{name} is now {state}',
  stages: 'Stages',
  stage: '{name}: {state} {duration}',
  failureMessages: 'Messages',
  reason: 'Why',
  stale: 'Out of date',
  staleDetail: 'Retrying: {message} ({attempts} attempts)',
  announceStatus: 'Job {job}: {status}',
  announceEnd: 'Job {job} ended: {status} after {duration}',
  announceStale: 'Job {job}: status is out of date, retrying',
  announceFresh: 'Job {job}: status is up to date again',
  operationOnService: '{operation} {service}',
  opEdit: 'Edit',
  opStart: 'Start',
  opStop: 'Stop',
  opDeleteServices: 'Delete services',
  opCreate: 'Back up',
  listLabel: 'Jobs',
  filterLabel: 'Show',
  filterAll: 'All',
  filterRunning: 'Running',
  filterSucceeded: 'Completed',
  filterFailed: 'Failed',
  filterCancelled: 'Cancelled',
  listEmpty: 'No jobs to show',
  listCount: '{count} jobs',
  sourceError: 'Stopped watching: {message}',
  sourceRetrying: 'Still trying: {message}',
  jobNotWatched: 'The jobwatch daemon does not watch job {jobid} (yet).',
  etaLeft: 'About {left} left',
  etaDue: 'Ending about now',
  etaOverdue: 'Taking longer than usual',
  etaUsually: 'usually {low}–{high}, from {basis} earlier',
  etaFrom: 'from {basis} earlier',
  progress: 'Progress',
  announceProgress: 'Job {job}: {percent} done',
  step: 'Step {index} of {total}',
  results: 'Results',
};

/** German. */
export const de: Messages = {
  SUBMITTED: 'Eingereicht',
  EXECUTING: 'Läuft',
  CANCELLING: 'Wird abgebrochen',
  CANCELLED: 'Abgebrochen',
  FAILED: 'Fehlgeschlagen',
  COMPLETED: 'Abgeschlossen',
  UNAVAILABLE: 'Status nicht verfügbar',
  'TIMED OUT': 'Zeitüberschreitung',
  ERROR: 'Fehler',
  statusUnknown: 'Unbekannter Status: {status}',
  statusPending: 'Warte auf ersten Status',
  noJob: 'Kein Job',
  elapsed: 'Laufzeit',
  duration: 'Dauer',
  started: 'Gestartet',
  ended: 'Beendet',
  startedBy: 'Gestartet von',
  jobId: 'Job-ID',
  operation: 'Vorgang',
  service: 'Dienst',
  serviceType: 'Typ',
  folder: 'Ordner',
  backupStore: 'Sicherungsspeicher',
  result: 'Ergebnis',
  resultService: '{name} ist jetzt {state}',
  stages: 'Phasen',
  stage: '{name}: {state} {duration}',
  failureMessages: 'Meldungen',
  reason: 'Grund',
  stale: 'Veraltet',
  staleDetail: 'Neuer Versuch: {message} ({attempts} Versuche)',
  announceStatus: 'Job {job}: {status}',
  announceEnd: 'Job {job} beendet: {status} nach {duration}',
  announceStale: 'Job {job}: Status ist veraltet, neuer Versuch läuft',
  announceFresh: 'Job {job}: Status ist wieder aktuell',
  operationOnService: '{operation} {service}',
  opEdit: 'Bearbeiten',
  opStart: 'Starten',
  opStop: 'Stoppen',
  opDeleteServices: 'Dienste löschen',
  opCreate: 'Sichern',
  listLabel: 'Jobs',
  filterLabel: 'Anzeigen',
  filterAll: 'Alle',
  filterRunning: 'Laufend',
  filterSucceeded: 'Abgeschlossen',
  filterFailed: 'Fehlgeschlagen',
  filterCancelled: 'Abgebrochen',
  listEmpty: 'Keine Jobs',
  listCount: '{count} Jobs',
  sourceError: 'Beobachtung beendet: {message}',
  sourceRetrying: 'Neuer Versuch läuft: {message}',
  jobNotWatched: 'Der jobwatch-Dienst beobachtet Job {jobid} (noch) nicht.',
  etaLeft: 'Noch etwa {left}',
  etaDue: 'Endet etwa jetzt',
  etaOverdue: 'Dauert länger als üblich',
  etaUsually: 'meist {low}–{high}, aus {basis} früheren',
  etaFrom: 'aus {basis} früheren',
  progress: 'Fortschritt',
  announceProgress: 'Job {job}: {percent} erledigt',
  step: 'Schritt {index} von {total}',
  results: 'Ergebnisse',
};

/** The shipped catalogues, by primary language subtag. */
export const catalogs: Readonly<Record<string, Messages>> = { en, de };

/**
 * The messages for a language tag (`de-CH` → `de`), English for any other, with a page's
 * overrides on top.
 */
export function messagesFor(lang: string, overrides?: Partial<Messages>): Messages {
  const primary = lang.toLowerCase().split('-')[0] ?? '';
  const base = catalogs[primary] ?? en;
  return overrides ? { ...base, ...overrides } : base;
}

/** Fills `{name}` placeholders; unknown ones are left as they are. */
export function fill(template: string, values: object): string {
  const map = values as Readonly<Record<string, unknown>>;
  return template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    Object.hasOwn(map, key) ? String(map[key]) : whole,
  );
}

/**
 * The language an element speaks: its own `lang`, else the closest ancestor's, crossing
 * shadow roots, else the document's, else `en`.
 */
export function inheritedLang(element: Element): string {
  let node: Element | null = element;
  while (node) {
    const found: Element | null = node.closest('[lang]');
    const lang = found?.getAttribute('lang');
    if (lang) return lang;
    const root = node.getRootNode();
    node = root instanceof ShadowRoot ? root.host : null;
  }
  return element.ownerDocument?.documentElement.lang || 'en';
}

/** Something that re-renders on request: a Lit element. */
interface Rerenderable {
  requestUpdate(): void;
}

const followers = new Set<Rerenderable>();
let langObserver: MutationObserver | undefined;

/**
 * Re-renders `element` whenever a `lang` attribute changes anywhere in the document, so a
 * page that switches language switches every widget with it. Pair with {@link unfollowLang}.
 */
export function followLang(element: Rerenderable & Element): void {
  followers.add(element);
  if (langObserver || typeof MutationObserver === 'undefined') return;
  langObserver = new MutationObserver(() => {
    for (const follower of followers) follower.requestUpdate();
  });
  langObserver.observe(element.ownerDocument.documentElement, {
    attributes: true,
    attributeFilter: ['lang'],
    subtree: true,
  });
}

/** Stops re-rendering `element` on language changes. */
export function unfollowLang(element: Rerenderable): void {
  followers.delete(element);
}
