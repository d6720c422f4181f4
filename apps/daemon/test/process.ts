import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI, as users run it. */
export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A running `jobwatch` process with its captured output. */
export interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exit: Promise<number | string>;
  /** Resolves once `predicate` holds over standard output. */
  waitFor(predicate: (stdout: string) => boolean): Promise<void>;
}

/** Starts `node dist/main.js <args>` with exactly `env` (plus PATH). */
export function start(args: readonly string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: Array<() => void> = [];
  const running: Running = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    ),
    waitFor(predicate) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(running.stdout)) resolve();
          else if (child.exitCode !== null || child.signalCode !== null)
            reject(
              new Error(`process ended; stdout: ${running.stdout}\nstderr: ${running.stderr}`),
            );
          else waiters.push(check);
        };
        check();
      });
    },
  };
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    running.stdout += chunk;
    wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    running.stderr += chunk;
  });
  child.once('exit', () => setImmediate(wake));
  return running;
}

/** Runs the CLI to its end; a process still running after `limitMs` is killed, not left behind. */
export async function run(
  args: readonly string[],
  env: Record<string, string> = {},
  limitMs = 25_000,
) {
  const p = start(args, env);
  const guard = setTimeout(() => p.child.kill('SIGKILL'), limitMs);
  const code = await p.exit;
  clearTimeout(guard);
  return { code, stdout: p.stdout, stderr: p.stderr };
}
