/**
 * `<jobwatch-status>` in real Chromium, loaded from the single-file bundle: every status,
 * what a person sees, the live region, i18n, theming and media preferences.
 */
import type { Snapshot } from '@jobwatch/schema';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bundlePage,
  launchBrowser,
  type PageServer,
  START,
  snapshotOf,
  startPageServer,
  type TestBrowser,
} from './harness.js';

let browser: TestBrowser;
let server: PageServer;
let page: Page;

beforeAll(async () => {
  server = await startPageServer({
    '/': bundlePage('<jobwatch-status id="s"></jobwatch-status>'),
    '/de': bundlePage('<main><jobwatch-status id="s"></jobwatch-status></main>', 'de-DE'),
  });
  browser = await launchBrowser();
  page = await browser.page();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

afterEach(() => {
  expect(browser.errors.splice(0)).toEqual([]);
});

async function open(path = '/'): Promise<void> {
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => customElements.get('jobwatch-status') !== undefined);
}

/** Shows a snapshot and reads back what a person (and a screen reader) would get. */
async function show(snapshot: Snapshot | undefined, now = START + 65_000) {
  return page.evaluate(
    async ({ snapshot, now }) => {
      const el = document.getElementById('s') as HTMLElement & {
        snapshot: unknown;
        now: () => number;
        updateComplete: Promise<boolean>;
      };
      el.now = () => now;
      el.snapshot = snapshot;
      await el.updateComplete;
      const root = el.shadowRoot!;
      const text = (sel: string) =>
        // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what a person sees
        (root.querySelector(sel) as HTMLElement | null)?.innerText?.replace(/\s+/g, ' ').trim() ??
        null;
      return {
        label: text('.label'),
        announced: text('[role="status"]'),
        statusAttr: el.getAttribute('status'),
        staleAttr: el.hasAttribute('stale'),
        icon: root.querySelector('[part~="status"] svg')?.getAttribute('data-icon') ?? null,
        iconHidden: root.querySelector('[part~="status"] svg')?.getAttribute('aria-hidden') ?? null,
        tone: root.querySelector('[part~="card"]')?.className ?? null,
        time: text('[part~="time"]'),
        operation: text('[part~="operation"]'),
        details: text('[part~="details"]'),
        result: text('[part~="result"]'),
        messages: [...root.querySelectorAll('[part~="messages"] li')].map((li) =>
          li.textContent?.trim(),
        ),
        stale: text('[part~="stale"]'),
        trouble: text('[part~="trouble"]'),
        eta: text('[part~="eta"]'),
        card: text('[part~="card"]'),
      };
    },
    { snapshot, now },
  );
}

describe('every status renders with its text, icon, tone and role', () => {
  const cases: [string | null, string, string, string][] = [
    ['SUBMITTED', 'Submitted', 'pending', 'SUBMITTED'],
    ['EXECUTING', 'Running', 'running', 'EXECUTING'],
    ['CANCELLING', 'Cancelling', 'warning', 'CANCELLING'],
    ['UNAVAILABLE', 'Status unavailable', 'warning', 'UNAVAILABLE'],
    ['COMPLETED', 'Completed', 'success', 'COMPLETED'],
    ['FAILED', 'Failed', 'failure', 'FAILED'],
    ['TIMED OUT', 'Timed out', 'failure', 'TIMED OUT'],
    ['CANCELLED', 'Cancelled', 'cancelled', 'CANCELLED'],
    ['REBOOTING', 'Unknown status: REBOOTING', 'unknown', 'REBOOTING'],
    [null, 'Waiting for first status', 'pending', 'pending'],
  ];
  beforeAll(() => open());
  for (const [status, label, tone, attr] of cases) {
    it(`${status ?? 'no body yet'} → "${label}"`, async () => {
      const seen = await show(snapshotOf(status));
      expect(seen.label).toBe(label);
      expect(seen.icon).toBe(tone);
      expect(seen.iconHidden).toBe('true');
      expect(seen.tone).toContain(`tone-${tone}`);
      expect(seen.statusAttr).toBe(attr);
      // The live region names the status (a new status is a milestone).
      expect(seen.announced).toContain(label);
    });
  }
});

describe('what a person sees', () => {
  beforeAll(() => open());

  it('shows nothing-yet text without a snapshot', async () => {
    const seen = await show(undefined);
    expect(seen.card).toBe('No job to show');
    expect(seen.statusAttr).toBeNull();
  });

  it('reads the operation, who started it and when', async () => {
    const seen = await show(snapshotOf('EXECUTING'));
    expect(seen.operation).toBe('Edit FireWeatherWatch MapServer · Folder Fire');
    expect(seen.details).toContain('Started by serviceAdmin');
    const expected = await page.evaluate(
      (t) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'medium' }).format(t),
      START,
    );
    expect(seen.details).toContain(`Started ${expected}`);
    expect(seen.details).not.toContain('Ended');
    expect(seen.details).toContain('j2bcbcd49-83a4-4cc1-a034-40e4a266e96d');
  });

  it('ticks the elapsed time of a running job from the clock', async () => {
    expect((await show(snapshotOf('EXECUTING'), START + 65_000)).time).toBe('Elapsed 1m 5s');
    expect((await show(snapshotOf('EXECUTING'), START + 3_725_000)).time).toBe('Elapsed 1h 2m');
    // A server clock ahead of the page's never shows less than the job's last update.
    expect((await show(snapshotOf('EXECUTING'), START - 60_000)).time).toBe('Elapsed 5s');
  });

  it('ticks by itself once a second while the job runs', async () => {
    await page.clock.install({ time: START + 10_000 });
    await open();
    await page.evaluate(async (s) => {
      const el = document.getElementById('s') as HTMLElement & {
        snapshot: unknown;
        updateComplete: Promise<boolean>;
      };
      el.snapshot = s;
      await el.updateComplete;
    }, snapshotOf('EXECUTING'));
    const time = () =>
      page.evaluate(
        () => document.getElementById('s')!.shadowRoot!.querySelector('time')!.textContent,
      );
    expect(await time()).toBe('10s');
    await page.clock.runFor(3_000);
    expect(await time()).toBe('13s');
    await page.evaluate(async (s) => {
      const el = document.getElementById('s') as HTMLElement & {
        snapshot: unknown;
        updateComplete: Promise<boolean>;
      };
      el.snapshot = s;
      await el.updateComplete;
    }, snapshotOf('COMPLETED'));
    await page.clock.runFor(5_000);
    expect(await time()).toBe('3m 5s');
    await page.close();
    page = await browser.page();
    await open();
  });

  it('shows the final duration and end time of an ended job', async () => {
    const seen = await show(snapshotOf('COMPLETED'), START + 999_999_000);
    expect(seen.time).toBe('Took 3m 5s');
    expect(seen.details).toMatch(/Ended /);
  });

  it('summarizes an edit: the service name and its configured state', async () => {
    const seen = await show(
      snapshotOf('COMPLETED', {
        result: {
          service: {
            serviceName: 'FireWeatherWatch',
            type: 'MapServer',
            configuredState: 'STOPPED',
          },
        },
      }),
    );
    expect(seen.result).toBe('Result FireWeatherWatch is now STOPPED');
  });

  it("lists a backup's stages", async () => {
    const seen = await show(
      snapshotOf('COMPLETED', {
        operationURI: '/arcgis/admin/system/disasterrecovery/stores/nightly/backups/create',
        result: {
          stages: [
            {
              name: 'Validation',
              state: 'completed',
              duration: '3096 millis (~ 0 minutes)',
              lastUpdated: START,
            },
            { name: 'Backup', state: 'completed', duration: 81_000 },
          ],
        },
      }),
    );
    expect(seen.operation).toBe('Back up Backup store nightly');
    expect(seen.result).toContain('Validation: completed 3096 millis (~ 0 minutes)');
    expect(seen.result).toContain('Backup: completed 81000 ms');
  });

  it('shows the messages of a failed job', async () => {
    const seen = await show(
      snapshotOf('FAILED', { messages: ['Service not found.', 'Rolled back <b>edit</b>.'] }),
    );
    expect(seen.messages).toEqual(['Service not found.', 'Rolled back <b>edit</b>.']);
    // Server text is text, never markup.
    const bold = await page.evaluate(() =>
      document.getElementById('s')!.shadowRoot!.querySelector('b'),
    );
    expect(bold).toBeNull();
  });

  it('marks a stale snapshot with the trouble and reflects it', async () => {
    const seen = await show(
      snapshotOf(
        'EXECUTING',
        {},
        {
          stale: true,
          trouble: {
            code: 'TRANSPORT',
            message: 'HTTP 502 from the server',
            since: START,
            attempts: 3,
          },
        },
      ),
    );
    expect(seen.stale).toBe('Out of date');
    expect(seen.trouble).toBe('Retrying: HTTP 502 from the server (3 attempts)');
    expect(seen.staleAttr).toBe(true);
    const fresh = await show(snapshotOf('EXECUTING'));
    expect(fresh.stale).toBeNull();
    expect(fresh.staleAttr).toBe(false);
  });

  it('shows when a running job will likely end, with its spread, only with a basis', async () => {
    const eta = {
      middle: START + 105_000,
      low: START + 100_000,
      high: START + 125_000,
      basis: 23,
      overdue: false,
    };
    const seen = await show({ ...snapshotOf('EXECUTING'), eta }, START + 65_000);
    expect(seen.eta).toBe('About 40s left (usually 35s–1m, from 23 earlier)');
    const late = await show({ ...snapshotOf('EXECUTING'), eta }, START + 130_000);
    expect(late.eta).toBe('Taking longer than usual (from 23 earlier)');
    expect((await show(snapshotOf('EXECUTING'))).eta).toBeNull();
    expect((await show({ ...snapshotOf('COMPLETED'), eta })).eta).toBeNull();
  });

  it('shows an unfamiliar operation by its path', async () => {
    const seen = await show(
      snapshotOf('EXECUTING', { operationURI: '/arcgis/admin/system/licenses/update' }),
    );
    expect(seen.operation).toBe('update system/licenses/update');
  });

  it('names a known operation without a service by its name alone', async () => {
    const seen = await show(
      snapshotOf('EXECUTING', { operationURI: '/arcgis/admin/services/deleteServices' }),
    );
    expect(seen.operation).toBe('Delete services');
  });
});

describe('the live region announces milestones, not polls', () => {
  beforeAll(() => open());

  it('announces status changes and the end, and stays quiet on a poll that changes nothing visible', async () => {
    const first = await show(snapshotOf('EXECUTING'));
    expect(first.announced).toBe('Job FireWeatherWatch: Running');
    await show(snapshotOf('SUBMITTED'));
    const back = await show(snapshotOf('EXECUTING'));
    expect(back.announced).toBe('Job FireWeatherWatch: Running');
    // Another poll: updatedtime moved, status did not.
    const polled = await show(snapshotOf('EXECUTING', { updatedtime: START + 30_000 }));
    expect(polled.announced).toBe('Job FireWeatherWatch: Running');
    const stale = await show(snapshotOf('EXECUTING', {}, { stale: true }));
    expect(stale.announced).toBe('Job FireWeatherWatch: status is out of date, retrying');
    const fresh = await show(snapshotOf('EXECUTING'));
    expect(fresh.announced).toBe('Job FireWeatherWatch: status is up to date again');
    const end = await show(snapshotOf('FAILED'));
    expect(end.announced).toBe('Job FireWeatherWatch ended: Failed after 3m 5s');
  });

  it('has exactly one polite status region, which a quiet element leaves out', async () => {
    const roles = await page.evaluate(async () => {
      const el = document.getElementById('s') as HTMLElement & {
        quiet: boolean;
        updateComplete: Promise<boolean>;
      };
      const loud = [...el.shadowRoot!.querySelectorAll('[role="status"]')].map((r) =>
        r.getAttribute('aria-live'),
      );
      el.quiet = true;
      await el.updateComplete;
      const quiet = el.shadowRoot!.querySelectorAll('[role="status"]').length;
      el.quiet = false;
      await el.updateComplete;
      return { loud, quiet };
    });
    expect(roles).toEqual({ loud: ['polite'], quiet: 0 });
  });
});

describe('i18n', () => {
  it('speaks the language of the closest [lang] ancestor', async () => {
    await open('/de');
    const seen = await show(snapshotOf('FAILED', { messages: ['x'] }));
    expect(seen.label).toBe('Fehlgeschlagen');
    expect(seen.time).toMatch(/^Dauer 3 Min\. 5 Sek\.$/);
    expect(seen.details).toContain('Gestartet von serviceAdmin');
    const expected = await page.evaluate(
      (t) =>
        new Intl.DateTimeFormat('de-DE', { dateStyle: 'medium', timeStyle: 'medium' }).format(t),
      START,
    );
    expect(seen.details).toContain(expected);
  });

  it('switches language when the page does', async () => {
    await open();
    await show(snapshotOf('COMPLETED'));
    const label = await page.evaluate(async () => {
      document.documentElement.lang = 'de';
      await new Promise((r) => setTimeout(r, 0));
      const el = document.getElementById('s') as HTMLElement & { updateComplete: Promise<boolean> };
      await el.updateComplete;
      return el.shadowRoot!.querySelector('.label')!.textContent;
    });
    expect(label).toBe('Abgeschlossen');
  });

  it('takes any string from the messages property', async () => {
    await open();
    await page.evaluate(() => {
      (document.getElementById('s') as HTMLElement & { messages: unknown }).messages = {
        COMPLETED: 'Done!',
        duration: 'In',
      };
    });
    const seen = await show(snapshotOf('COMPLETED'));
    expect(seen.label).toBe('Done!');
    expect(seen.time).toBe('In 3m 5s');
  });
});

describe('theming and media preferences', () => {
  /** WCAG relative-luminance contrast of two CSS colours, computed in the page. */
  async function contrasts(theme: string | null) {
    return page.evaluate(
      async ({ theme, statuses }) => {
        const el = document.getElementById('s') as HTMLElement & {
          snapshot: unknown;
          updateComplete: Promise<boolean>;
        };
        if (theme) el.setAttribute('theme', theme);
        else el.removeAttribute('theme');
        const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
        const lum = (c: string) => {
          const [r = 0, g = 0, b = 0] = rgb(c).map((v) => {
            const s = v / 255;
            return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r + 0.7152 * g + 0.0722 * b;
        };
        const ratio = (a: string, b: string) => {
          const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p) as [number, number];
          return (x + 0.05) / (y + 0.05);
        };
        const out: Record<string, number> = {};
        let background = '';
        for (const s of statuses) {
          el.snapshot = s;
          await el.updateComplete;
          const root = el.shadowRoot!;
          background = getComputedStyle(root.querySelector('.card')!).backgroundColor;
          out[(s as { status: string }).status] = ratio(
            getComputedStyle(root.querySelector('.status')!).color,
            background,
          );
          out.text = ratio(getComputedStyle(root.querySelector('.card')!).color, background);
          out.muted = ratio(getComputedStyle(root.querySelector('.time')!).color, background);
        }
        return { out, background };
      },
      {
        theme,
        statuses: [
          'SUBMITTED',
          'EXECUTING',
          'CANCELLING',
          'COMPLETED',
          'FAILED',
          'CANCELLED',
          'NEW',
        ].map((s) => snapshotOf(s)),
      },
    );
  }

  it('meets AA contrast (4.5:1) for every tone in light and dark', async () => {
    await open();
    const light = await contrasts('light');
    const dark = await contrasts('dark');
    expect(light.background).toBe('rgb(255, 255, 255)');
    expect(dark.background).toBe('rgb(13, 17, 23)');
    for (const [name, ratio] of [...Object.entries(light.out), ...Object.entries(dark.out)]) {
      expect(ratio, name).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('follows prefers-color-scheme unless the theme attribute says otherwise', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    expect((await contrasts(null)).background).toBe('rgb(13, 17, 23)');
    expect((await contrasts('light')).background).toBe('rgb(255, 255, 255)');
    await page.emulateMedia({ colorScheme: 'light' });
    expect((await contrasts(null)).background).toBe('rgb(255, 255, 255)');
  });

  it('takes colours from --jobwatch-* custom properties and exposes parts', async () => {
    await open();
    await show(snapshotOf('COMPLETED'));
    const styled = await page.evaluate(() => {
      const style = document.createElement('style');
      style.textContent =
        'jobwatch-status { --jobwatch-success: rgb(1, 2, 3); --jobwatch-bg: rgb(250, 250, 240); } jobwatch-status::part(time) { font-style: italic; }';
      document.head.append(style);
      const root = document.getElementById('s')!.shadowRoot!;
      return {
        status: getComputedStyle(root.querySelector('.status')!).color,
        bg: getComputedStyle(root.querySelector('.card')!).backgroundColor,
        time: getComputedStyle(root.querySelector('.time')!).fontStyle,
      };
    });
    expect(styled).toEqual({ status: 'rgb(1, 2, 3)', bg: 'rgb(250, 250, 240)', time: 'italic' });
  });

  it('stops the spinner for prefers-reduced-motion', async () => {
    await open();
    await show(snapshotOf('EXECUTING'));
    const animation = () =>
      page.evaluate(
        () =>
          getComputedStyle(document.getElementById('s')!.shadowRoot!.querySelector('svg.spin')!)
            .animationName,
      );
    expect(await animation()).toBe('spin');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await animation()).toBe('none');
    await page.emulateMedia({ reducedMotion: 'no-preference' });
  });

  it('uses system colours under forced-colors', async () => {
    await open();
    await page.emulateMedia({ forcedColors: 'active' });
    await show(snapshotOf('FAILED'));
    const colors = await page.evaluate(() => {
      const root = document.getElementById('s')!.shadowRoot!;
      return {
        status: getComputedStyle(root.querySelector('.status')!).color,
        text: getComputedStyle(root.querySelector('.card')!).color,
      };
    });
    // The status is no longer told apart by colour: it takes the text colour, while the
    // icon and the label still say it.
    expect(colors.status).toBe(colors.text);
    await page.emulateMedia({ forcedColors: 'none' });
  });
});
