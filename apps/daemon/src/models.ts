/**
 * The daemon's duration model kept in its store: read at start (kind by kind, so one bad
 * row loses nothing else) and written kind by kind as it learns.
 */
import {
  DurationModel,
  type DurationModelChange,
  type DurationModelKindJSON,
  SKETCH_RELATIVE_ACCURACY,
} from '@jobwatch/rx';
import type { Logger } from './log.js';
import type { Store } from './store/store.js';

/** The stored form of one kind. */
export function modelKindJSON(change: DurationModelChange): DurationModelKindJSON {
  return { ...change.kind, updatedAt: change.updatedAt, sketch: change.sketch };
}

/**
 * Merges every stored kind into `model` (which should be empty). A row that cannot be read
 * is skipped with a warning naming it and what is wrong; it is replaced the next time its
 * kind learns.
 */
export async function loadModel(store: Store, model: DurationModel, logger: Logger): Promise<void> {
  const rows = await store.loadModelKinds(model.options.maxKinds);
  let loaded = 0;
  for (const row of rows) {
    try {
      const kind = JSON.parse(row.json) as unknown;
      model.merge(
        DurationModel.fromJSON(
          { version: 1, relativeAccuracy: SKETCH_RELATIVE_ACCURACY, kinds: [kind] },
          model.options,
        ),
      );
      loaded++;
    } catch (error) {
      logger.warn(
        { kind: row.key, reason: (error as Error).message },
        'stored duration model kind could not be read; it starts again',
      );
    }
  }
  if (rows.length > 0) logger.info({ kinds: loaded }, 'duration model loaded');
}
