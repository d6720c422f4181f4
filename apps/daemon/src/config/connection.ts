/** Where `jobwatch wait` and `watch` connect: flags, then the environment, then a config file's deployment. */
import type { AuthProvider, TokenHeader } from '@jobwatch/client';
import { configError } from '../errors.js';
import { checkAdminUrl, tokenHeaderOf } from './checks.js';
import { resolveDeployment } from './deployment.js';
import { loadConfigFile } from './file.js';
import type { Deployment, Env } from './schema.js';
import { readSecretFile, toAuth } from './secrets.js';

/** Flags shared by `wait` and `watch`. */
export interface ConnectionFlags {
  readonly url?: string | undefined;
  readonly token?: string | undefined;
  readonly username?: string | undefined;
  readonly passwordFile?: string | undefined;
  readonly tokenUrl?: string | undefined;
  /** `auto`, `x-esri-authorization` or `authorization`. */
  readonly tokenHeader?: string | undefined;
  readonly config?: string | undefined;
  readonly deployment?: string | undefined;
}

/** Where `wait` and `watch` connect, resolved. */
export interface Connection {
  readonly deployment: string;
  readonly url: string;
  readonly auth: AuthProvider;
  readonly allowInsecureHttp: boolean;
  readonly tokenHeader: TokenHeader;
}

/**
 * Resolves the connection of `wait`/`watch`: flags, then `JOBWATCH_*` variables, then the
 * config file's deployment (`--deployment`, or its only one). The first layer that names a
 * credential (a token or a username) supplies it; a username's password comes from
 * `--password-file`, else `JOBWATCH_PASSWORD`.
 */
export function resolveConnection(flags: ConnectionFlags, env: Env): Connection {
  let fromFile: Deployment | undefined;
  if (flags.config) {
    const file = loadConfigFile(flags.config);
    const list = file.deployments ?? [];
    const index = flags.deployment
      ? list.findIndex((d) => d.name === flags.deployment)
      : list.length === 1
        ? 0
        : -1;
    if (index < 0 && (flags.deployment || list.length > 1)) {
      throw configError(
        flags.deployment
          ? `--deployment: no deployment named "${flags.deployment}" in ${flags.config}`
          : `--deployment: ${flags.config} has several deployments; name one`,
      );
    }
    const entry = list[index];
    if (entry) fromFile = resolveDeployment(entry, index, env);
  }
  const urlText = flags.url ?? env.JOBWATCH_URL ?? fromFile?.url;
  if (!urlText)
    throw configError('no admin URL: give --url https://host/<context>/admin (or JOBWATCH_URL)');
  const url = checkAdminUrl(
    urlText,
    flags.url ? '--url' : env.JOBWATCH_URL ? 'JOBWATCH_URL' : 'deployment url',
  );
  const password = () =>
    flags.passwordFile
      ? readSecretFile(flags.passwordFile, '--password-file')
      : env.JOBWATCH_PASSWORD;
  const tokenUrl = flags.tokenUrl ?? env.JOBWATCH_TOKEN_URL;
  // The first layer that names a credential supplies it.
  const layer =
    flags.token || flags.username
      ? { token: flags.token, username: flags.username, where: 'flags' }
      : env.JOBWATCH_TOKEN || env.JOBWATCH_USERNAME
        ? { token: env.JOBWATCH_TOKEN, username: env.JOBWATCH_USERNAME, where: 'environment' }
        : undefined;
  const auth: AuthProvider = layer
    ? toAuth(
        {
          token: layer.token,
          username: layer.username,
          password: layer.username ? password() : undefined,
          tokenUrl,
        },
        layer.where,
      )
    : (fromFile?.auth ?? toAuth({}, 'flags'));
  const tokenHeader =
    tokenHeaderOf(flags.tokenHeader, '--token-header') ??
    tokenHeaderOf(env.JOBWATCH_TOKEN_HEADER, 'JOBWATCH_TOKEN_HEADER') ??
    fromFile?.tokenHeader ??
    'auto';
  return {
    deployment: fromFile?.name ?? flags.deployment ?? 'default',
    url,
    auth,
    allowInsecureHttp: fromFile?.allowInsecureHttp ?? false,
    tokenHeader,
  };
}
