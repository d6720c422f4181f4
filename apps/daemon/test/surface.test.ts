import { ConfigError, TransportError } from '@jobwatch/client';
import { WaitTimeoutError } from '@jobwatch/rx';
import { CodedError, isCodedError, parseJobId } from '@jobwatch/schema';
import { isSimulatorError, startSimulator } from '@jobwatch/simulator';
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
      'openRedisStore',
      'redisKeys',
      'FencedError',
      'StoreError',
      'signWebhook',
    ])
      expect(daemon, name).toHaveProperty(name);
  });

  it('keeps the internals of the service out of it', () => {
    for (const name of ['instrumentClient', 'webhookKey', 'REDACT_PATHS'])
      expect(daemon, name).not.toHaveProperty(name);
  });
});

describe('one error base', () => {
  it('every package throws CodedErrors with their own stable codes', async () => {
    const thrown: unknown[] = [
      (() => {
        try {
          parseJobId('a/b');
        } catch (error) {
          return error;
        }
      })(),
      new ConfigError('bad'),
      new TransportError('down', { reason: 'connect' }),
      new WaitTimeoutError({ jobid: 'j1', maxWait: 5 }),
      new daemon.DaemonError('USAGE', 'bad flag'),
      new daemon.FencedError('deployment:default', 3),
      await startSimulator({ port: -1 } as never).catch((error: unknown) => error),
    ];
    expect(isSimulatorError(thrown[6])).toBe(true);
    expect(thrown.every(isCodedError)).toBe(true);
    expect(thrown.map((e) => (e as CodedError).code)).toEqual([
      'INVALID_JOB_ID',
      'CONFIG',
      'TRANSPORT',
      'WAIT_TIMEOUT',
      'USAGE',
      'FENCED',
      'INVALID_OPTIONS',
    ]);
    expect(thrown.every((e) => e instanceof CodedError && e instanceof Error)).toBe(true);
  });
});
