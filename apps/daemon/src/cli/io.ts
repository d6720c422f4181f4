import type { Env } from '../config.js';
import type { Output } from './render.js';

/** What a command may touch: its streams, its environment, and an interrupt (SIGINT/SIGTERM). */
export interface CliIo {
  readonly stdout: Output & { readonly isTTY?: boolean; readonly columns?: number | undefined };
  readonly stderr: Output;
  readonly env: Env;
  /** Aborted on SIGINT/SIGTERM. */
  readonly interrupt?: AbortSignal;
}

/** Resolves when `signal` aborts (never when it is missing). */
export function interrupted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** An error's stable code and message, safe to print. */
export function errorInfo(error: unknown): { code: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return {
    code: typeof code === 'string' ? code : 'INTERNAL',
    message: error instanceof Error ? error.message : String(error),
  };
}
