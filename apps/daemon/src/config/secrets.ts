/**
 * Secrets in the configuration: tokens, passwords and webhook secrets read from files and the
 * environment, credentials made into the client's `AuthProvider`, webhook keys and API keys
 * checked. No message here ever holds a secret's value.
 */
import { readFileSync } from 'node:fs';
import type { AuthProvider } from '@jobwatch/client';
import { configError } from '../errors.js';
import { checkAdminUrl } from './checks.js';
import type { Env } from './schema.js';

/** A secret read from a file, its one trailing newline cut. */
export function readSecretFile(path: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(
      `${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (!secret) throw configError(`${name}: ${path} is empty`);
  return secret;
}

/** A secret read from an environment variable that must be set. */
export function readSecretEnv(env: Env, variable: string, name: string): string {
  const value = env[variable];
  if (!value) throw configError(`${name}: environment variable ${variable} is not set`);
  return value;
}

/** Credentials as gathered from one source, before they become an {@link AuthProvider}. */
export interface CredentialInput {
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly tokenUrl?: string | undefined;
}

const HOW =
  'give --token, or --username with --password-file (or JOBWATCH_TOKEN, or JOBWATCH_USERNAME with JOBWATCH_PASSWORD)';

/** Turns credentials into the client's {@link AuthProvider}, refusing incomplete ones. */
export function toAuth(input: CredentialInput, where: string): AuthProvider {
  if (input.token) return { type: 'token', token: input.token };
  if (input.username) {
    if (!input.password)
      throw configError(`${where}: a username was given without a password; ${HOW}`);
    return {
      type: 'credentials',
      username: input.username,
      password: input.password,
      ...(input.tokenUrl ? { tokenUrl: checkAdminUrl(input.tokenUrl, 'token URL') } : {}),
    };
  }
  throw configError(`no credentials: ${HOW}`);
}

const SECRET_FORMS =
  'expected whsec_ followed by the base64 of 24 to 64 bytes (as Standard Webhooks issues them), or a plain secret of at least 16 characters';

/**
 * Decodes a webhook secret: `whsec_` + the base64 of 24 to 64 bytes per Standard Webhooks,
 * or a plain secret of at least 16 characters (signed with as UTF-8 bytes). Anything else
 * could be forged (`whsec_` alone signs with an empty key) or would sign with junk.
 * @throws {@link DaemonError} (`CONFIG`) naming `name`, never the secret.
 */
export function webhookKey(secret: string, name = 'webhook secret'): Buffer {
  if (secret.startsWith('whsec_')) {
    const text = secret.slice(6);
    const bare = text.replace(/=+$/, '');
    if (!/^[A-Za-z0-9+/]*$/.test(bare) || bare.length % 4 === 1)
      throw configError(`${name}: the part after whsec_ is not base64; ${SECRET_FORMS}`);
    const key = Buffer.from(bare, 'base64');
    if (key.toString('base64').replace(/=+$/, '') !== bare)
      throw configError(`${name}: the part after whsec_ is not base64; ${SECRET_FORMS}`);
    if (key.length < 24 || key.length > 64)
      throw configError(
        `${name}: the part after whsec_ decodes to ${key.length} bytes; ${SECRET_FORMS}`,
      );
    return key;
  }
  if ([...secret].length < 16) throw configError(`${name}: too short; ${SECRET_FORMS}`);
  return Buffer.from(secret, 'utf8');
}

/** Whether an API key can travel in `Authorization: Bearer <key>`: visible ASCII only. */
const API_KEY_CHARS = /^[\x21-\x7e]+$/;

/** Checks API keys: 16+ characters, no whitespace or control characters. Never shows a key. */
export function checkApiKeys(keys: readonly string[], source: string): void {
  for (const [i, key] of keys.entries()) {
    if (key.length < 16)
      throw configError(`${source}[${i}]: expected at least 16 characters, got fewer (not shown)`);
    if (!API_KEY_CHARS.test(key))
      throw configError(
        `${source}[${i}]: holds whitespace, a control or a non-ASCII character (not shown); a key is sent as Authorization: Bearer <key> and must be visible ASCII`,
      );
  }
}
