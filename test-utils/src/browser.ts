/**
 * Debian's Chromium driven by playwright-core (which downloads nothing), with a fresh profile
 * and the flags that keep it offline and quiet on a machine without a display or a network.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium headless, offline and quiet (root, no GPU, no background hosts). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running Chromium with its own profile; {@link Chromium.close} removes the profile. */
export interface Chromium {
  readonly context: BrowserContext;
  /** Uncaught page errors and console errors of every page, as `pageerror: …`/`console: …`. */
  readonly errors: string[];
  /** A new page whose uncaught errors and console errors land in {@link Chromium.errors}. */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/** What {@link launchChromium} passes on to playwright (a viewport, a colour scheme, …). */
export type LaunchChromiumOptions = Omit<
  NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>,
  'executablePath' | 'args' | 'headless'
>;

/** Launches Chromium with a fresh `--user-data-dir`. */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'jobwatch-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      ...options,
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
      headless: true,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const errors: string[] = [];
  return {
    context,
    errors,
    async page() {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        const { url } = message.location();
        errors.push(`console: ${message.text()}${url ? ` (${url})` : ''}`);
      });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
