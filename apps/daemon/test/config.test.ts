import { AuthError, ConfigError, InvalidJobIdError, JobNotFoundError } from '@jobwatch/client';
import { WaitTimeoutError } from '@jobwatch/rx';
import { describe, expect, it } from 'vitest';
import {
  ExitCode,
  exitCodeForError,
  exitCodeForStatus,
  worstExitCode,
} from '../src/cli/exit-codes.js';
import {
  checkAdminUrl,
  parseListen,
  resolveConnection,
  resolveServeConfig,
  validateConfigFile,
  webhookKey,
} from '../src/config.js';
import { formatDuration, parseDuration } from '../src/duration.js';
import { DaemonError } from '../src/errors.js';
import { tempDir } from './helpers.js';

const KEY = 'k'.repeat(24);

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DaemonError);
    return (error as DaemonError).message;
  }
  throw new Error('expected a DaemonError');
}

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['2d', 172_800_000],
    ['1.5s', 1500],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['90', '', 'soon', '10x', '-5s', '5s garbage', '0s'])(
    'refuses %j with a usage error',
    (text) => {
      expect(() => parseDuration(text, '--timeout')).toThrow(/--timeout/);
    },
  );

  it('writes durations back readably', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m0s');
    expect(formatDuration(45_900)).toBe('45s');
    expect(formatDuration(61_000)).toBe('1m1s');
  });
});

describe('exit codes', () => {
  it('follow the fixed precedence 2, 5, 1, 4, 3, 0', () => {
    expect(worstExitCode([0, 3])).toBe(3);
    expect(worstExitCode([3, 4])).toBe(4);
    expect(worstExitCode([4, 1, 3])).toBe(1);
    expect(worstExitCode([1, 5])).toBe(5);
    expect(worstExitCode([5, 2, 0])).toBe(2);
    expect(worstExitCode([])).toBe(0);
  });
  it('map statuses and errors', () => {
    expect(exitCodeForStatus('COMPLETED')).toBe(ExitCode.OK);
    expect(exitCodeForStatus('FAILED')).toBe(ExitCode.FAILED);
    expect(exitCodeForStatus('TIMED OUT')).toBe(ExitCode.FAILED);
    expect(exitCodeForStatus('CANCELLED')).toBe(ExitCode.CANCELLED);
    expect(exitCodeForError(new WaitTimeoutError({ jobid: 'j1', maxWait: 1_000 }))).toBe(
      ExitCode.TIMEOUT,
    );
    expect(exitCodeForError(new JobNotFoundError('gone', { jobid: 'j1' }))).toBe(
      ExitCode.UNWATCHABLE,
    );
    expect(exitCodeForError(new AuthError('refused'))).toBe(ExitCode.UNWATCHABLE);
    expect(exitCodeForError(new ConfigError('bad URL'))).toBe(ExitCode.USAGE);
    expect(exitCodeForError(new InvalidJobIdError('../x'))).toBe(ExitCode.USAGE);
    expect(exitCodeForError(new DaemonError('USAGE', 'unknown flag'))).toBe(ExitCode.USAGE);
    expect(exitCodeForError(new Error('boom'))).toBe(ExitCode.UNWATCHABLE);
  });
  it('tell errors by their class, not by a code another package happens to share', () => {
    // A code string alone (from another package, or a plain object) is not a usage error.
    expect(exitCodeForError({ code: 'CONFIG' })).toBe(ExitCode.UNWATCHABLE);
    expect(exitCodeForError({ code: 'WAIT_TIMEOUT' })).toBe(ExitCode.UNWATCHABLE);
  });
});

describe('configuration file', () => {
  it('names the bad key', () => {
    expect(configMessage(() => validateConfigFile({ deployments: [{ name: 'a', url: 42 }] }))).toBe(
      'config: deployments[0].url: expected a string, got 42',
    );
    expect(
      configMessage(() => validateConfigFile({ deployments: [{ url: 'https://x/y/admin' }] })),
    ).toMatch(/deployments\[0\]\.name: expected .*got nothing/);
    expect(configMessage(() => validateConfigFile({ listn: '1:2' }))).toBe(
      'config: listn: unknown key',
    );
    expect(
      configMessage(() =>
        validateConfigFile({ webhooks: [{ url: 'https://h', secret: 's', events: ['done'] }] }),
      ),
    ).toMatch(/^config: webhooks\[0\]\.events\[0\]: expected one of "terminal", "change"/);
  });

  it('reads YAML and JSON files, and names the file when it is broken', () => {
    const t = tempDir();
    try {
      const yaml = t.file(
        'c.yaml',
        `deployments:\n  - name: prod\n    url: https://gis.example.com/arcgis/admin\n    token: t0k\napiKeys: [${KEY}]\nlisten: 0.0.0.0:9000\n`,
      );
      const config = resolveServeConfig({ config: yaml }, {});
      expect(config.deployments[0]).toMatchObject({
        name: 'prod',
        url: 'https://gis.example.com/arcgis/admin',
        auth: { type: 'token', token: 't0k' },
      });
      expect(config).toMatchObject({ host: '0.0.0.0', port: 9000, apiKeys: [KEY] });

      const bad = t.file(
        'c.json',
        '{"deployments": [{"name": "prod", "url": "https://h/arcgis/admin", "username": true}]}',
      );
      expect(configMessage(() => resolveServeConfig({ config: bad }, {}))).toBe(
        `${bad}: deployments[0].username: expected a string, got true`,
      );
      const broken = t.file('d.json', '{"listen": ');
      expect(configMessage(() => resolveServeConfig({ config: broken }, {}))).toMatch(
        /is not valid JSON/,
      );
      expect(
        configMessage(() => resolveServeConfig({ config: `${t.dir}/missing.yaml` }, {})),
      ).toMatch(/cannot read config file .*ENOENT/);
    } finally {
      t.cleanup();
    }
  });

  it('reads passwords from the named variable or file, and says which one is missing', () => {
    const t = tempDir();
    try {
      const pass = t.file('pass', 'hunter2\n');
      const file = t.file(
        'c.json',
        JSON.stringify({
          deployments: [
            { name: 'a', url: 'https://h/c/admin', username: 'u', passwordFile: pass },
            { name: 'b', url: 'https://h/d/admin', username: 'u', passwordEnv: 'B_PASS' },
          ],
        }),
      );
      const config = resolveServeConfig({ config: file }, { B_PASS: 'pw-b' });
      expect(config.deployments.map((d) => d.auth)).toEqual([
        { type: 'credentials', username: 'u', password: 'hunter2' },
        { type: 'credentials', username: 'u', password: 'pw-b' },
      ]);
      expect(configMessage(() => resolveServeConfig({ config: file }, {}))).toBe(
        'deployments[1].passwordEnv: environment variable B_PASS is not set',
      );
    } finally {
      t.cleanup();
    }
  });

  it('takes one deployment from the environment alone, with flags over environment', () => {
    const env = {
      JOBWATCH_URL: 'https://gis.example.com/arcgis/admin/',
      JOBWATCH_USERNAME: 'admin',
      JOBWATCH_PASSWORD: 'pw',
      JOBWATCH_API_KEYS: `${KEY}, ${KEY}x`,
      JOBWATCH_DATA_DIR: '/var/lib/jw',
      JOBWATCH_LISTEN: '127.0.0.1:9999',
    };
    const config = resolveServeConfig({ listen: '127.0.0.1:7000' }, env);
    expect(config.deployments).toEqual([
      {
        name: 'default',
        url: 'https://gis.example.com/arcgis/admin',
        kind: 'enterprise',
        origins: [],
        auth: { type: 'credentials', username: 'admin', password: 'pw' },
        discover: false,
        allowInsecureHttp: false,
        tokenHeader: 'auto',
      },
    ]);
    expect(config).toMatchObject({ port: 7000, dataDir: '/var/lib/jw', apiKeys: [KEY, `${KEY}x`] });
  });

  it('reads a deployment kind and origins from the file, JOBWATCH_KIND from the environment, enterprise by default', () => {
    const env = { JOBWATCH_URL: 'https://h/arcgis/admin', JOBWATCH_TOKEN: 't' };
    expect(resolveServeConfig({}, env).deployments[0]).toMatchObject({ kind: 'enterprise' });
    expect(
      resolveServeConfig({}, { ...env, JOBWATCH_KIND: 'server' }).deployments[0],
    ).toMatchObject({ kind: 'server' });
    expect(() => resolveServeConfig({}, { ...env, JOBWATCH_KIND: 'portal' })).toThrow(
      /JOBWATCH_KIND: expected one of enterprise, server/,
    );
    const t = tempDir();
    try {
      const deployment = {
        name: 's',
        url: 'https://h/server/admin',
        token: 't',
        kind: 'server',
        origins: ['https://Portal.example.com:7443/'],
      };
      const config = resolveServeConfig(
        { config: t.file('c.json', JSON.stringify({ deployments: [deployment] })) },
        {},
      );
      expect(config.deployments[0]).toMatchObject({
        kind: 'server',
        origins: ['https://portal.example.com:7443'],
      });
      for (const [bad, message] of [
        [{ ...deployment, kind: 'portal' }, /kind/],
        [
          { ...deployment, origins: ['https://h/portal'] },
          /origins\[0\]: expected only https:\/\/host/,
        ],
        [{ ...deployment, origins: ['ftp://h'] }, /origins\[0\]: expected an http or https origin/],
        [{ ...deployment, origins: ['https://u:p@h'] }, /origins\[0\]/],
      ] as const) {
        expect(() =>
          resolveServeConfig(
            { config: t.file('bad.json', JSON.stringify({ deployments: [bad] })) },
            {},
          ),
        ).toThrow(message);
      }
    } finally {
      t.cleanup();
    }
  });

  it('reads the token header from the file, JOBWATCH_TOKEN_HEADER and --token-header, in that order of weight', () => {
    const env = { JOBWATCH_URL: 'https://h/arcgis/admin', JOBWATCH_TOKEN: 't' };
    expect(resolveServeConfig({}, env).deployments[0]?.tokenHeader).toBe('auto');
    expect(
      resolveServeConfig({}, { ...env, JOBWATCH_TOKEN_HEADER: 'authorization' }).deployments[0]
        ?.tokenHeader,
    ).toBe('authorization');
    const t = tempDir();
    try {
      const file = t.file(
        'c.yaml',
        'deployments:\n  - { name: a, url: https://h/arcgis/admin, token: t, tokenHeader: x-esri-authorization }\n',
      );
      expect(resolveServeConfig({ config: file }, {}).deployments[0]?.tokenHeader).toBe(
        'x-esri-authorization',
      );
      expect(resolveConnection({ config: file }, {}).tokenHeader).toBe('x-esri-authorization');
      expect(
        resolveConnection({ config: file }, { JOBWATCH_TOKEN_HEADER: 'authorization' }).tokenHeader,
      ).toBe('authorization');
      expect(
        resolveConnection(
          { config: file, tokenHeader: 'auto' },
          { JOBWATCH_TOKEN_HEADER: 'authorization' },
        ).tokenHeader,
      ).toBe('auto');
      const bad = t.file(
        'd.yaml',
        'deployments:\n  - { name: a, url: https://h/arcgis/admin, token: t, tokenHeader: cookie }\n',
      );
      expect(configMessage(() => resolveServeConfig({ config: bad }, {}))).toMatch(
        /deployments\[0\]\.tokenHeader/,
      );
    } finally {
      t.cleanup();
    }
    expect(
      configMessage(() => resolveServeConfig({}, { ...env, JOBWATCH_TOKEN_HEADER: 'query' })),
    ).toBe(
      'JOBWATCH_TOKEN_HEADER: expected auto, x-esri-authorization, authorization, got "query"',
    );
  });

  it('reads how long ended jobs are kept and how many stream clients are let in, with defaults', () => {
    const env = { JOBWATCH_URL: 'https://h/arcgis/admin', JOBWATCH_TOKEN: 't' };
    expect(resolveServeConfig({}, env)).toMatchObject({
      jobRetentionMs: 7 * 86_400_000,
      maxStreamClients: 10_000,
    });
    const t = tempDir();
    try {
      const file = t.file('c.yaml', 'jobs: { retention: 36h }\nevents: { maxClients: 50 }\n');
      expect(resolveServeConfig({ config: file }, env)).toMatchObject({
        jobRetentionMs: 36 * 3_600_000,
        maxStreamClients: 50,
      });
      const bad = t.file('d.yaml', 'jobs: { retention: forever }\n');
      expect(configMessage(() => resolveServeConfig({ config: bad }, env))).toMatch(
        /^jobs\.retention: "forever" is not a duration/,
      );
      expect(configMessage(() => validateConfigFile({ events: { maxClients: 0 } }))).toMatch(
        /^config: events\.maxClients: must be >= 1, got 0$/,
      );
    } finally {
      t.cleanup();
    }
  });

  it('refuses to listen beyond loopback without an API key', () => {
    const env = { JOBWATCH_URL: 'https://h/arcgis/admin', JOBWATCH_TOKEN: 't' };
    expect(configMessage(() => resolveServeConfig({ listen: '0.0.0.0:8787' }, env))).toMatch(
      /refusing to serve 0\.0\.0\.0 without an API key/,
    );
    expect(resolveServeConfig({ listen: '127.0.0.1:8787' }, env).apiKeys).toEqual([]);
    expect(resolveServeConfig({ listen: '[::1]:8787' }, env).host).toBe('::1');
    expect(configMessage(() => resolveServeConfig({ listen: '10.0.0.1:8787' }, env))).toMatch(
      /refusing to serve 10\.0\.0\.1 without an API key/,
    );
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('nope')).toThrow(/host:port/);
  });

  it("counts loopback as the client does, where the daemon's own copy refused it", () => {
    const env = { JOBWATCH_URL: 'https://h/arcgis/admin', JOBWATCH_TOKEN: 't' };
    for (const listen of ['LOCALHOST:8787', '[0:0:0:0:0:0:0:1]:8787', '[::ffff:127.0.0.1]:8787'])
      expect(resolveServeConfig({ listen }, env).apiKeys, listen).toEqual([]);
    expect(
      configMessage(() => resolveServeConfig({ listen: '[::ffff:10.0.0.1]:8787' }, env)),
    ).toMatch(/without an API key/);
  });

  it("keeps the admin URL in the client's normal form, where the daemon's own copy kept a bare ?", () => {
    expect(checkAdminUrl('https://GIS.example.com:443/arcgis/admin/?')).toBe(
      'https://gis.example.com/arcgis/admin',
    );
    expect(checkAdminUrl('https://gis.example.com/arcgis/admin#', 'deployments[0].url')).toBe(
      'https://gis.example.com/arcgis/admin',
    );
    expect(
      resolveServeConfig({}, { JOBWATCH_URL: 'https://h/arcgis/admin//?', JOBWATCH_TOKEN: 't' })
        .deployments[0]?.url,
    ).toBe('https://h/arcgis/admin');
  });

  it('accepts webhook URLs with a query and names a bad one', () => {
    const env = {
      JOBWATCH_URL: 'https://h/arcgis/admin',
      JOBWATCH_TOKEN: 't',
      HOOK: 's3cret-s3cret-s3cret',
    };
    const t = tempDir();
    try {
      const ok = t.file(
        'ok.json',
        JSON.stringify({
          webhooks: [
            { url: 'https://hooks.example.com/in?team=gis', secretEnv: 'HOOK', events: ['change'] },
          ],
        }),
      );
      expect(resolveServeConfig({ config: ok }, env).webhooks[0]).toMatchObject({
        url: 'https://hooks.example.com/in?team=gis',
      });
      const bad = t.file(
        'bad.json',
        JSON.stringify({ webhooks: [{ url: 'hooks.example.com', secret: 's'.repeat(16) }] }),
      );
      expect(configMessage(() => resolveServeConfig({ config: bad }, env))).toMatch(
        /^webhooks\[0\]\.url: "hooks\.example\.com" is not a URL/,
      );
    } finally {
      t.cleanup();
    }
  });

  it('decodes whsec_ secrets as base64 of 24 to 64 bytes, and takes plain secrets of 16+ characters', () => {
    const bytes24 = Buffer.alloc(24, 7);
    expect(webhookKey(`whsec_${bytes24.toString('base64')}`)).toEqual(bytes24);
    expect(
      webhookKey(`whsec_${Buffer.alloc(64, 1).toString('base64').replace(/=+$/, '')}`),
    ).toEqual(Buffer.alloc(64, 1));
    expect(webhookKey('a-plain-secret-16').toString()).toBe('a-plain-secret-16');
  });

  it.each([
    ['whsec_ alone (an empty key anyone could sign with)', 'whsec_', /decodes to 0 bytes/],
    ['whsec_ with invalid base64', 'whsec_not*base64!!', /not base64/],
    ['whsec_ with base64 that does not round-trip', `whsec_${'A'.repeat(33)}B==`, /not base64/],
    [
      'whsec_ with too few bytes',
      `whsec_${Buffer.from('hello').toString('base64')}`,
      /decodes to 5 bytes/,
    ],
    [
      'whsec_ with too many bytes',
      `whsec_${Buffer.alloc(65).toString('base64')}`,
      /decodes to 65 bytes/,
    ],
    ['a short plain secret', 'hunter2hunter2', /too short/],
  ])('refuses %s, naming the webhook and not the secret', (_name, secret, message) => {
    const text = configMessage(() => webhookKey(secret, 'webhooks[2].secret'));
    expect(text).toMatch(/^webhooks\[2\]\.secret: /);
    expect(text).toMatch(message);
    expect(text).toMatch(/whsec_ followed by the base64 of 24 to 64 bytes/);
    if (secret.length > 6) expect(text).not.toContain(secret.slice(6));
  });
});

describe('connection of wait and watch', () => {
  it('takes flags over environment over config file', () => {
    const t = tempDir();
    try {
      const file = t.file(
        'c.yaml',
        'deployments:\n  - name: lab\n    url: https://file.example.com/arcgis/admin\n    token: file-token\n',
      );
      expect(resolveConnection({ config: file }, {})).toMatchObject({
        deployment: 'lab',
        url: 'https://file.example.com/arcgis/admin',
        auth: { token: 'file-token' },
      });
      expect(
        resolveConnection(
          { config: file },
          { JOBWATCH_URL: 'https://env.example.com/a/admin', JOBWATCH_TOKEN: 'env-token' },
        ),
      ).toMatchObject({
        url: 'https://env.example.com/a/admin',
        auth: { token: 'env-token' },
      });
      const pass = t.file('pw', 'secret-pw\n');
      expect(
        resolveConnection(
          {
            config: file,
            url: 'https://flag.example.com/b/admin',
            username: 'me',
            passwordFile: pass,
          },
          { JOBWATCH_TOKEN: 'env-token' },
        ),
      ).toMatchObject({
        url: 'https://flag.example.com/b/admin',
        auth: { type: 'credentials', username: 'me', password: 'secret-pw' },
      });
    } finally {
      t.cleanup();
    }
  });

  it('explains missing credentials, unreadable password files and bad URLs', () => {
    expect(configMessage(() => resolveConnection({ url: 'https://h/a/admin' }, {}))).toMatch(
      /^no credentials: give --token/,
    );
    expect(
      configMessage(() => resolveConnection({ url: 'https://h/a/admin', username: 'u' }, {})),
    ).toMatch(/username was given without a password/);
    expect(
      configMessage(() =>
        resolveConnection(
          { url: 'https://h/a/admin', username: 'u', passwordFile: '/nonexistent/pw' },
          {},
        ),
      ),
    ).toBe('--password-file: cannot read /nonexistent/pw (ENOENT)');
    expect(configMessage(() => resolveConnection({ url: 'not a url', token: 't' }, {}))).toMatch(
      /^--url: "not a url" is not a URL/,
    );
    expect(
      configMessage(() => resolveConnection({ url: 'ftp://h/a/admin', token: 't' }, {})),
    ).toMatch(/expected an http or https URL/);
    const withPassword = configMessage(() =>
      resolveConnection({ url: 'https://u:hunter2@h/a/admin', token: 't' }, {}),
    );
    expect(withPassword).toMatch(/credentials do not belong in the URL/);
    expect(withPassword).not.toContain('hunter2');
    expect(configMessage(() => resolveConnection({ token: 't' }, {}))).toMatch(/no admin URL/);
  });
});
