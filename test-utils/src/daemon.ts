/**
 * The built `jobwatch` CLI as a child process: `serve` started, killed and restarted on the
 * same data directory and port, with every line it writes kept for the secrets check.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it (`node apps/daemon/dist/main.js`). */
export const DAEMON_MAIN = fileURLToPath(
  new URL('../../apps/daemon/dist/main.js', import.meta.url),
);

/** A free TCP port on loopback (free when asked; the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One line the daemon wrote, with which run of it wrote it. */
export interface OutputLine {
  readonly run: number;
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** Options of {@link DaemonProcess}. */
export interface DaemonProcessOptions {
  /** Arguments after `node main.js`, e.g. `['serve', '--config', file]`. */
  readonly args: readonly string[];
  /** The environment, exactly (PATH is added). */
  readonly env?: Readonly<Record<string, string>>;
  /** `http://127.0.0.1:<port>` it will listen on (the config fixes the port). */
  readonly url: string;
  /** The CLI's entry file (an installed package's bin, say). @default {@link DAEMON_MAIN} */
  readonly main?: string;
}

/** `jobwatch serve` as a process that can be killed and started again. */
export class DaemonProcess {
  /** Every line written by every run, in order. */
  readonly lines: OutputLine[] = [];
  /** How many times it was started. */
  runs = 0;
  readonly url: string;
  #child: ChildProcess | undefined;
  #exit: Promise<number | string> | undefined;
  readonly #options: DaemonProcessOptions;

  constructor(options: DaemonProcessOptions) {
    this.#options = options;
    this.url = options.url;
  }

  /** The process id of the running child, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process and resolves once `/readyz` answers 200. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (this.#child) throw new Error('daemon already running');
    const run = ++this.runs;
    const child = spawn(
      process.execPath,
      [this.#options.main ?? DAEMON_MAIN, ...this.#options.args],
      {
        env: { PATH: process.env.PATH ?? '', ...this.#options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.#child = child;
    this.#exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream]?.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const text of parts) this.lines.push({ run, stream, text });
      });
      child[stream]?.on('end', () => {
        if (partial) this.lines.push({ run, stream, text: partial });
        partial = '';
      });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`daemon exited at start (${await this.#exit}): ${this.tail(20)}`);
      }
      try {
        const res = await fetch(`${this.url}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`daemon not ready in time: ${this.tail(20)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Sends `signal` and resolves with the exit code (or signal name) once it has exited. */
  async stop(signal: NodeJS.Signals): Promise<number | string> {
    const child = this.#child;
    const exit = this.#exit;
    if (!child || !exit) throw new Error('daemon not running');
    child.kill(signal);
    const result = await exit;
    this.#child = undefined;
    this.#exit = undefined;
    return result;
  }

  /** The last `n` lines, for error messages. */
  tail(n: number): string {
    return this.lines
      .slice(-n)
      .map((l) => l.text)
      .join('\n');
  }
}
