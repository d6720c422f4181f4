import { describe, expect, it } from 'vitest';
import * as daemon from '../src/index.js';

describe('the public surface of @jobwatch/daemon', () => {
  it('exports what an embedder needs: create, serve, config, errors, store, webhook signing', () => {
    for (const name of [
      'createDaemon',
      'startServer',
      'runCli',
      'resolveServeConfig',
      'loadConfigFile',
      'validateConfigFile',
      'DaemonError',
      'DaemonErrorCode',
      'isDaemonError',
      'ApiErrorCode',
      'openSqliteStore',
      'signWebhook',
    ])
      expect(daemon, name).toHaveProperty(name);
  });

  it('keeps the internals of the service out of it', () => {
    for (const name of ['instrumentClient', 'webhookKey', 'REDACT_PATHS'])
      expect(daemon, name).not.toHaveProperty(name);
  });
});
