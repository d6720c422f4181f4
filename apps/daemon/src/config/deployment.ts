/** A deployment of the configuration file, resolved. */
import { configError } from '../errors.js';
import { checkAdminUrl, checkOrigin, durationKey, resolvePacing } from './checks.js';
import type { ConfigFile, Deployment, Env } from './schema.js';
import { readSecretEnv, readSecretFile, toAuth } from './secrets.js';

/** One deployment of the file, its secrets read and every value checked. */
export function resolveDeployment(
  d: NonNullable<ConfigFile['deployments']>[number],
  i: number,
  env: Env,
): Deployment {
  const at = `deployments[${i}]`;
  const token =
    d.token ??
    (d.tokenEnv ? readSecretEnv(env, d.tokenEnv, `${at}.tokenEnv`) : undefined) ??
    (d.tokenFile ? readSecretFile(d.tokenFile, `${at}.tokenFile`) : undefined);
  const password = d.username
    ? d.passwordEnv
      ? readSecretEnv(env, d.passwordEnv, `${at}.passwordEnv`)
      : d.passwordFile
        ? readSecretFile(d.passwordFile, `${at}.passwordFile`)
        : undefined
    : undefined;
  if (!token && !d.username)
    throw configError(`${at}: expected token, tokenEnv, tokenFile or username`);
  return {
    name: d.name,
    url: checkAdminUrl(d.url, `${at}.url`),
    kind: d.kind ?? 'enterprise',
    origins: (d.origins ?? []).map((o, j) => checkOrigin(o, `${at}.origins[${j}]`)),
    auth: toAuth({ token, username: d.username, password, tokenUrl: d.tokenUrl }, at),
    discover: d.discover ?? false,
    ...(d.listInterval
      ? { listIntervalMs: durationKey(d.listInterval, `${at}.listInterval`) }
      : {}),
    ...(d.budget ? { budget: d.budget } : {}),
    ...(d.pacing ? { pacing: resolvePacing(d.pacing, at) } : {}),
    allowInsecureHttp: d.allowInsecureHttp ?? false,
    tokenHeader: d.tokenHeader ?? 'auto',
  };
}
