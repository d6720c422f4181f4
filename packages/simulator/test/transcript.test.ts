import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { TRANSCRIPT_OPTIONS, transcript } from './transcript.js';

const golden = readFileSync(new URL('./fixtures/transcript-seed-42.txt', import.meta.url), 'utf8');
const open: Simulator[] = [];
afterAll(() => Promise.all(open.map((s) => s.close())));

describe('quirks off is the documented output, byte for byte', () => {
  it.each([
    ['by default', {}],
    ['with quirks: false', { quirks: false }],
    ['with quirks: []', { quirks: [] }],
  ] as const)('answers the kept transcript for seed 42 %s', async (_, extra) => {
    const sim = await startSimulator({ ...TRANSCRIPT_OPTIONS, ...extra });
    open.push(sim);
    expect(await transcript(sim)).toBe(golden);
  });

  it('answers it again after quirks were turned on and off at run time', async () => {
    const sim = await startSimulator({ ...TRANSCRIPT_OPTIONS, quirks: true });
    open.push(sim);
    sim.setQuirks(false);
    expect(await transcript(sim)).toBe(golden);
  });

  it('differs from it with quirks on (so the comparison can fail)', async () => {
    const sim = await startSimulator({ ...TRANSCRIPT_OPTIONS, quirks: true });
    open.push(sim);
    expect(await transcript(sim)).not.toBe(golden);
  });
});
