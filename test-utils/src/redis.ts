/**
 * A real `redis-server` (Debian's binary) as a child process for one test file: its own free
 * port and temporary directory, no persistence unless asked, stopped, killed and restarted on
 * the same port. Never a mock and never a shared system service.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './daemon.js';

/** The server binary: `REDIS_SERVER` overrides, else `redis-server` on `PATH`. */
export const REDIS_SERVER_PATH = process.env.REDIS_SERVER ?? 'redis-server';

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** Keep data across {@link RedisServer.restart} with an append-only file. @default false */
  readonly persist?: boolean;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '64mb']`. */
  readonly args?: readonly string[];
}

/** A running `redis-server` started by {@link startRedis}. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, stable across restarts. */
  readonly url: string;
  readonly port: number;
  /** Its working directory (removed by {@link close}). */
  readonly dir: string;
  /** Every line it wrote, for a failing test to print. */
  readonly lines: string[];
  /** Stops it (SIGTERM, or SIGKILL with `kill: true`) and waits for the process to end. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port and directory, resolving once it answers `PING`. */
  start(): Promise<void>;
  /** {@link stop} then {@link start}. */
  restart(options?: { kill?: boolean }): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port with a fresh temporary directory and resolves
 * once it answers `PING`.
 *
 * @example
 * ```ts
 * const redis = await startRedis();
 * afterAll(() => redis.close());
 * const store = await openRedisStore({ url: redis.url });
 * ```
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'jobwatch-redis-'));
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> | undefined;

  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.persist ? 'yes' : 'no',
    ...(options.args ?? []),
  ];

  async function start(): Promise<void> {
    if (child) return;
    const started = spawn(REDIS_SERVER_PATH, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    exited = new Promise((resolve) => started.once('exit', () => resolve()));
    exited.then(() => {
      if (child === started) child = undefined;
    });
    for (const stream of [started.stdout, started.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    }
    const spawnError = new Promise<never>((_, reject) =>
      started.once('error', (error) =>
        reject(
          new Error(
            `could not start ${REDIS_SERVER_PATH} (${error.message}); install it with apt-get install -y redis-server`,
          ),
        ),
      ),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await Promise.race([ping(port), spawnError])) return;
      if (!child) throw new Error(`redis-server exited while starting:\n${lines.join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(`redis-server did not answer:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function stop(stopOptions: { kill?: boolean } = {}): Promise<void> {
    const running = child;
    if (!running) return;
    running.kill(stopOptions.kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    lines,
    start,
    stop,
    async restart(restartOptions) {
      await stop(restartOptions);
      await start();
    },
    async close() {
      await stop({ kill: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a Redis server answers `PING` on loopback `port`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
