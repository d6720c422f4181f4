/**
 * Choosing the store: SQLite in `dataDir` by default, Redis from `store: {kind: redis, url}`
 * or `JOBWATCH_REDIS_URL`. A bad value is named, and a Redis password never appears in a
 * message.
 */
import { describe, expect, it } from 'vitest';
import { resolveServeConfig, validateConfigFile } from '../src/config.js';
import { DaemonError } from '../src/errors.js';
import { tempDir } from './helpers.js';

const ENV = { JOBWATCH_URL: 'https://gis.example.com/arcgis/admin', JOBWATCH_TOKEN: 't' };

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DaemonError);
    return (error as DaemonError).message;
  }
  throw new Error('expected a DaemonError');
}

const withFile = (text: string, env: Record<string, string> = {}) => {
  const t = tempDir();
  try {
    return resolveServeConfig({ config: t.file('jobwatch.yaml', text) }, { ...ENV, ...env });
  } finally {
    t.cleanup();
  }
};

describe('the store of jobwatch serve', () => {
  it('is SQLite in dataDir by default, and when asked for by name', () => {
    expect(resolveServeConfig({}, ENV).store).toEqual({ kind: 'sqlite' });
    expect(withFile('store: { kind: sqlite }').store).toEqual({ kind: 'sqlite' });
  });

  it('is Redis from the file, with the default prefix or its own', () => {
    expect(withFile('store: { kind: redis, url: "redis://r.internal:6379/2" }').store).toEqual({
      kind: 'redis',
      url: 'redis://r.internal:6379/2',
      prefix: 'jobwatch:',
    });
    expect(
      withFile('store: { kind: redis, url: "rediss://r.internal:6380", prefix: "team-a:" }').store,
    ).toMatchObject({ kind: 'redis', prefix: 'team-a:' });
  });

  it('is Redis from JOBWATCH_REDIS_URL, which wins over the file', () => {
    expect(
      resolveServeConfig({}, { ...ENV, JOBWATCH_REDIS_URL: 'redis://:pw@r.internal:6379' }).store,
    ).toEqual({ kind: 'redis', url: 'redis://:pw@r.internal:6379', prefix: 'jobwatch:' });
    expect(
      withFile('store: { kind: sqlite }', { JOBWATCH_REDIS_URL: 'redis://r2.internal:6379' }).store,
    ).toMatchObject({ kind: 'redis', url: 'redis://r2.internal:6379' });
  });

  it('names each bad store, never showing a password', () => {
    const secret = 'hunter2-of-some-length';
    const messages = [
      configMessage(() => withFile('store: { kind: redis }')),
      configMessage(() => withFile('store: { kind: memcached }')),
      configMessage(() => withFile(`store: { kind: redis, url: "http://u:${secret}@r:6379" }`)),
      configMessage(() => withFile(`store: { kind: redis, url: "redis//u:${secret}@r" }`)),
      configMessage(() =>
        resolveServeConfig({}, { ...ENV, JOBWATCH_REDIS_URL: `ftp://u:${secret}@r` }),
      ),
      configMessage(() => withFile(`store: { kind: sqlite, url: "redis://:${secret}@r:6379" }`)),
      configMessage(() => withFile('store: { kind: redis, url: 42 }')),
    ];
    expect(messages[0]).toMatch(/^store\.url: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(messages[1]).toMatch(/store\.kind: expected one of/);
    expect(messages[2]).toMatch(/^store\.url: expected redis:\/\/ or rediss:\/\/, got http:/);
    expect(messages[3]).toMatch(/^store\.url: not a URL/);
    expect(messages[4]).toMatch(/^JOBWATCH_REDIS_URL: expected redis:\/\/ or rediss:\/\//);
    expect(messages[5]).toMatch(/^store\.url: only a redis store has a URL/);
    expect(messages[6]).toMatch(/store\.url: expected/);
    for (const message of messages) expect(message).not.toContain(secret);
  });

  it('is part of the file schema', () => {
    expect(validateConfigFile({ store: { kind: 'redis', url: 'redis://r:6379' } })).toMatchObject({
      store: { kind: 'redis' },
    });
  });
});
