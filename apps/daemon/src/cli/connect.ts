import { createAdminClient, withoutCredentials } from '@jobwatch/client';
import { createWatcher, type DurationModel, type Watcher } from '@jobwatch/rx';
import { type JobId, parseJobId } from '@jobwatch/schema';
import { type ConnectionFlags, resolveConnection } from '../config.js';
import { configError, usageError } from '../errors.js';
import type { CliIo } from './io.js';

/** Validates every job id before any request; a hostile id is a usage error. */
export function parseJobIds(ids: readonly string[]): JobId[] {
  return ids.map((id) => {
    try {
      return parseJobId(id);
    } catch (error) {
      // An id may be a URL pasted with its password: never shown.
      const shown = withoutCredentials(id);
      const printable = JSON.stringify(shown.length > 40 ? `${shown.slice(0, 37)}...` : shown);
      // The schema's message quotes the id as given; only the shown form is printed.
      const why = (error as Error).message.replace(/^jobId: /, '').replace(/, got .*$/s, '');
      throw usageError(`job id ${printable}: ${why}`);
    }
  });
}

/** Resolves the connection and makes the watcher `wait` and `watch` use. */
export function connect(
  flags: ConnectionFlags,
  io: CliIo,
  options: { readonly model?: DurationModel } = {},
): { watcher: Watcher; deployment: string } {
  const connection = resolveConnection(flags, io.env);
  let client: ReturnType<typeof createAdminClient>;
  try {
    client = createAdminClient({
      url: connection.url,
      auth: connection.auth,
      allowInsecureHttp: connection.allowInsecureHttp,
      tokenHeader: connection.tokenHeader,
      userAgent: 'jobwatch-cli',
    });
  } catch (error) {
    throw configError((error as Error).message, error);
  }
  return {
    watcher: createWatcher(client, {
      deployment: connection.deployment,
      ...(options.model ? { model: options.model } : {}),
    }),
    deployment: connection.deployment,
  };
}
