/**
 * `jobwatch serve` with a throwaway configuration: one deployment, an API key, a data
 * directory of its own. For tests of what sits in front of the daemon (pages, examples).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, freePort } from './daemon.js';

/** Options of {@link serveDaemon}. */
export interface ServeDaemonOptions {
  /** The admin URL of the one deployment, `default` (user `admin`, password `admin`). */
  readonly adminUrl: string;
  /**
   * What the deployment is: `enterprise` (admin jobs at `<adminUrl>/jobs`) or `server` (an
   * ArcGIS Server, admin jobs at `<adminUrl>/system/jobs`). @default "enterprise"
   */
  readonly kind?: 'enterprise' | 'server';
  /** Watch every new job of the deployment, listing it every second. @default false */
  readonly discover?: boolean;
  /** `events.heartbeat`. @default the daemon's (15s) */
  readonly heartbeat?: string;
  /** `cors.origins`. @default none */
  readonly corsOrigins?: readonly string[];
  /** The CLI's entry file. @default the workspace's built `apps/daemon` */
  readonly main?: string;
}

/** A running {@link serveDaemon}. */
export interface ServedDaemon {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The API key (`Authorization: Bearer <key>`). */
  readonly apiKey: string;
  readonly process: DaemonProcess;
  /** The directory holding its configuration and data (removed by {@link ServedDaemon.stop}). */
  readonly dir: string;
  /** Stops the daemon and removes its data directory. */
  stop(): Promise<void>;
}

/** Starts `jobwatch serve` and resolves once it is ready. */
export async function serveDaemon(options: ServeDaemonOptions): Promise<ServedDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwatch-serve-'));
  const port = await freePort();
  const apiKey = randomBytes(24).toString('base64url');
  const config = join(dir, 'jobwatch.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      dataDir: join(dir, 'data'),
      apiKeys: [apiKey],
      logLevel: 'warn',
      ...(options.heartbeat ? { events: { heartbeat: options.heartbeat } } : {}),
      ...(options.corsOrigins ? { cors: { origins: options.corsOrigins } } : {}),
      deployments: [
        {
          name: 'default',
          url: options.adminUrl,
          ...(options.kind ? { kind: options.kind } : {}),
          username: 'admin',
          passwordEnv: 'JOBWATCH_TEST_PASSWORD',
          ...(options.discover ? { discover: true, listInterval: '1s' } : {}),
        },
      ],
    }),
  );
  const daemon = new DaemonProcess({
    args: ['serve', '--config', config],
    env: { JOBWATCH_TEST_PASSWORD: 'admin' },
    url: `http://127.0.0.1:${port}`,
    ...(options.main ? { main: options.main } : {}),
  });
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    await daemon.start();
  } catch (error) {
    if (daemon.pid !== undefined) await daemon.stop('SIGKILL');
    remove();
    throw error;
  }
  return {
    url: daemon.url,
    apiKey,
    process: daemon,
    dir,
    async stop() {
      if (daemon.pid !== undefined) await daemon.stop('SIGTERM');
      remove();
    },
  };
}
