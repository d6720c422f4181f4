/**
 * jobwatch's elements as React components, through `@lit/react`: props that are element
 * properties (`daemon`, `ticketProvider`, `messages`, …) are set as properties and the
 * elements' events become `onJobChange`/`onJobEnd` — after hydration too, where React 19 on
 * its own attaches neither to server-rendered custom elements.
 *
 * Safe to import on the server: `@jobwatch/widget` defines nothing on import (the browser
 * entry imports `@jobwatch/widget/define`), and Lit's classes load in Node.
 */

import {
  JobwatchJob as JobElement,
  JobwatchJobs as JobsElement,
  type SnapshotEvent,
} from '@jobwatch/widget';
import { createComponent, type EventName } from '@lit/react';
import * as React from 'react';

/**
 * The element class, finalized: Lit puts its property accessors on the prototype when a class
 * is finalized (at definition, or when asked for its observed attributes), and `@lit/react`
 * tells properties from attributes by that prototype. Finalized here, the wrappers know that
 * `daemon`, `ticketProvider` and `messages` are properties without any element being defined —
 * on the server, and in the browser before hydration.
 */
function finalized<T extends { readonly observedAttributes: readonly string[] }>(element: T): T {
  if (element.observedAttributes.length === 0)
    throw new Error('a jobwatch element without attributes');
  return element;
}

const events = {
  /** A snapshot a person would notice arrived (`event.detail` is the snapshot). */
  onJobChange: 'jobwatch-change' as EventName<SnapshotEvent>,
  /** The job ended: COMPLETED, FAILED, TIMED OUT, ERROR or CANCELLED (the snapshot says why in `reason`). */
  onJobEnd: 'jobwatch-end' as EventName<SnapshotEvent>,
};

/** `<jobwatch-job>`: one job, live. Choose it with the `job-id` attribute. */
export const JobwatchJob = createComponent({
  tagName: 'jobwatch-job',
  elementClass: finalized(JobElement),
  react: React,
  events,
});

/** `<jobwatch-jobs>`: every job of a deployment, live. */
export const JobwatchJobs = createComponent({
  tagName: 'jobwatch-jobs',
  elementClass: finalized(JobsElement),
  react: React,
  events,
});
