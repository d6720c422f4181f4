/**
 * What the daemon makes of the warnings of its reads: values in a server's bodies that were
 * not in their documented shape (kept, or read as described), and statuses it does not know.
 * Visible, not noisy: each (deployment, place) is logged once at warn, every occurrence is
 * counted, and no job id is ever a label.
 */
import type { WarningsEvent } from '@jobwatch/client';
import type { UnknownStatusEvent } from '@jobwatch/rx';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** Distinct (deployment, pointer) labels counted before the rest are counted as `other`. */
export const MAX_WARNING_LABELS = 200;
/** Pointer labels are cut to this many characters. */
const MAX_POINTER_LENGTH = 120;

/**
 * A warning's pointer as a metric label: list indices collapsed (`/messages/3` →
 * `/messages/*`), so that the label names the place in the document, not the item; cut short.
 */
export function pointerLabel(pointer: string): string {
  const collapsed = pointer.replace(/\/\d+(?=\/|$)/g, '/*');
  return collapsed.length > MAX_POINTER_LENGTH
    ? `${collapsed.slice(0, MAX_POINTER_LENGTH - 1)}…`
    : collapsed;
}

/** The daemon's listeners for warnings and unknown statuses. */
export interface WarningReporter {
  /** The client's `onWarnings` for one deployment. */
  forDeployment(deployment: string): (event: WarningsEvent) => void;
  /** The watcher's `onUnknownStatus`. */
  readonly onUnknownStatus: (event: UnknownStatusEvent) => void;
}

/** Makes the listeners that log once and count every time. */
export function createWarningReporter(options: {
  readonly logger: Logger;
  readonly metrics: Metrics;
}): WarningReporter {
  const { logger, metrics } = options;
  const labels = new Set<string>();
  const statuses = new Set<string>();
  return {
    forDeployment: (deployment) => (event) => {
      for (const warning of event.warnings) {
        let pointer = pointerLabel(warning.pointer);
        const key = `${deployment}\u0000${pointer}`;
        if (!labels.has(key)) {
          if (labels.size >= MAX_WARNING_LABELS) {
            pointer = 'other';
          } else {
            labels.add(key);
            logger.warn(
              {
                deployment,
                body: event.kind,
                ...(event.jobid === undefined ? {} : { jobid: event.jobid }),
                pointer: warning.pointer,
                expected: warning.expected,
                found: warning.found,
              },
              'a server body had a value not in its documented shape; read as described, logged once per place',
            );
          }
        }
        metrics.schemaWarnings.inc({ deployment, pointer });
      }
    },
    onUnknownStatus(event) {
      metrics.unknownStatuses.inc({ deployment: event.deployment });
      const status = event.status.slice(0, 64);
      const key = `${event.deployment}\u0000${status}`;
      if (statuses.has(key) || statuses.size >= MAX_WARNING_LABELS) return;
      statuses.add(key);
      logger.warn(
        { deployment: event.deployment, jobid: event.jobid, status, policy: event.policy },
        'a job has a status jobwatch does not know; it is watched on, logged once per status',
      );
    },
  };
}
