/**
 * `jobwatch submit <task URL> --param name=value… [--wait]`: submits a geoprocessing job,
 * prints its job URL, and with `--wait` waits for it as `wait` does (the same exit codes) and
 * prints its result URLs.
 */
import { parseTaskUrl } from '@jobwatch/client';
import { type GpJobRef, jobRefUrl, parseJobRef } from '@jobwatch/schema';
import { usageError } from '../errors.js';
import { ExitCode, type ExitCodeValue, exitCodeForError } from './exit-codes.js';
import { type CliIo, errorInfo } from './io.js';
import { connectTargets, type Target } from './targets.js';
import { runWait, type WaitFlags } from './wait.js';

/** Flags of `jobwatch submit`. */
export interface SubmitFlags extends WaitFlags {
  /** `name=value` pairs, the job's parameters, as given (repeatable). */
  readonly param?: readonly string[] | undefined;
  /** Wait for the job to end, as `wait` does. */
  readonly wait?: boolean | undefined;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Reads `--param name=value` pairs: the first `=` splits; the value is sent as it is (JSON for
 * feature sets, lists and objects, as the task expects it). A name given twice, an empty or
 * unsafe name, `f` or `token`, are usage errors.
 */
export function parseParams(pairs: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw usageError(`--param ${JSON.stringify(pair.slice(0, 40))}: write it as name=value`);
    const name = pair.slice(0, eq);
    if (!NAME.test(name)) {
      throw usageError(
        `--param ${JSON.stringify(name.slice(0, 40))}: a parameter name is letters, digits and "_"`,
      );
    }
    if (name.toLowerCase() === 'f' || name.toLowerCase() === 'token') {
      throw usageError(`--param ${name}: set by jobwatch itself; remove it`);
    }
    if (Object.hasOwn(out, name)) throw usageError(`--param ${name}: given twice`);
    out[name] = pair.slice(eq + 1);
  }
  return out;
}

/**
 * Runs `submit`: the job is submitted once (never twice: a second POST would start a second
 * job), its URL printed on stdout; with `--wait`, waited for with `wait`'s live line and exit
 * codes, and on success its result URLs printed, one `<name> <url>` per line.
 */
export async function runSubmit(
  taskArg: string,
  flags: SubmitFlags,
  io: CliIo,
): Promise<ExitCodeValue> {
  let taskUrl: string;
  try {
    taskUrl = parseTaskUrl(taskArg);
  } catch (error) {
    throw usageError(`task URL: ${(error as Error).message}`);
  }
  const params = parseParams(flags.param);
  // The task's own reference, for the connection: the same server decides the credentials.
  const probe = parseJobRef(`${taskUrl}/jobs/j0`) as GpJobRef;
  const placeholder: Target = { kind: 'ref', key: 'submit', label: 'submit', ref: probe };
  const targets = connectTargets([placeholder], flags, io);
  let ref: GpJobRef;
  try {
    const client = targets.watcher.client.allowsOrigin(taskUrl)
      ? targets.watcher.client
      : undefined;
    if (!client)
      throw usageError(
        `the task URL is not on the server of --url (${targets.watcher.client.url})`,
      );
    ref = (await client.submitGpJob(taskUrl, params)).ref;
  } catch (error) {
    targets.close();
    const info = errorInfo(error);
    io.stderr.write(`jobwatch: submit ${taskUrl}: ${info.message} (${info.code})\n`);
    return exitCodeForError(error);
  }
  targets.close();
  const url = jobRefUrl(ref);
  if (!flags.wait) {
    io.stdout.write(flags.json ? `${JSON.stringify({ jobid: ref.jobid, url })}\n` : `${url}\n`);
    return ExitCode.OK;
  }
  if (!flags.json) io.stdout.write(`${url}\n`);
  return runWait([url], flags, io);
}
