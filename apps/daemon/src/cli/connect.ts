import { createAdminClient } from '@jobwatch/client';
import { createWatcher, type Watcher } from '@jobwatch/rx';
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
      const printable = JSON.stringify(id.length > 40 ? `${id.slice(0, 37)}...` : id);
      throw usageError(`job id ${printable}: ${(error as Error).message.replace(/^jobId: /, '')}`);
    }
  });
}

/** Resolves the connection and makes the watcher `wait` and `watch` use. */
export function connect(
  flags: ConnectionFlags,
  io: CliIo,
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
    watcher: createWatcher(client, { deployment: connection.deployment }),
    deployment: connection.deployment,
  };
}
