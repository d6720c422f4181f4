/**
 * Registers `<jobwatch-status>`, `<jobwatch-job>` and `<jobwatch-jobs>`. Importing it twice,
 * or next to another copy of the widget, is harmless: a name already taken is left alone.
 *
 * @example
 * ```ts
 * import '@jobwatch/widget/define';
 * ```
 * @module @jobwatch/widget/define
 * @packageDocumentation
 */
import { JobwatchJob } from './job-element.js';
import { JobwatchJobs } from './jobs-element.js';
import { JobwatchStatus } from './status-element.js';

/** Defines the elements under their names unless those are taken. */
export function defineElements(registry: CustomElementRegistry = customElements): void {
  const elements: [string, CustomElementConstructor][] = [
    ['jobwatch-status', JobwatchStatus],
    ['jobwatch-job', JobwatchJob],
    ['jobwatch-jobs', JobwatchJobs],
  ];
  for (const [name, element] of elements) if (!registry.get(name)) registry.define(name, element);
}

defineElements();
