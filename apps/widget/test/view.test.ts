/** What the elements show, computed without a DOM: labels, tones, times, messages. */
import { describe, expect, it } from 'vitest';
import { de, en, fill, messagesFor } from '../src/messages.js';
import { describeSnapshot, etaText, formatDuration, statusLabel, toneOf } from '../src/view.js';
import { START, snapshotOf } from './harness.js';

describe('statusLabel', () => {
  it('names every known status in both shipped languages', () => {
    for (const status of [
      'SUBMITTED',
      'EXECUTING',
      'CANCELLING',
      'CANCELLED',
      'FAILED',
      'COMPLETED',
      'UNAVAILABLE',
      'TIMED OUT',
      'ERROR',
    ]) {
      expect(statusLabel(status, en)).not.toMatch(/Unknown/);
      expect(statusLabel(status, de)).not.toBe(statusLabel(status, en));
    }
  });

  it('keeps an unknown status verbatim, and never takes a message key for a status', () => {
    expect(statusLabel('REBOOTING', en)).toBe('Unknown status: REBOOTING');
    expect(statusLabel('stale', en)).toBe('Unknown status: stale');
    expect(statusLabel('constructor', en)).toBe('Unknown status: constructor');
    expect(statusLabel(null, en)).toBe('Waiting for first status');
  });
});

describe('toneOf', () => {
  it('follows the status meaning of @jobwatch/schema', () => {
    expect(toneOf(snapshotOf('COMPLETED'))).toBe('success');
    expect(toneOf(snapshotOf('TIMED OUT'))).toBe('failure');
    expect(toneOf(snapshotOf('CANCELLED'))).toBe('cancelled');
    expect(toneOf(snapshotOf('UNAVAILABLE'))).toBe('warning');
    expect(toneOf(snapshotOf('EXECUTING'))).toBe('running');
    expect(toneOf(snapshotOf('SUBMITTED'))).toBe('pending');
    expect(toneOf(snapshotOf('WEIRD'))).toBe('unknown');
    expect(toneOf(snapshotOf(null))).toBe('pending');
  });
});

describe('describeSnapshot', () => {
  it('reads elapsed time, final duration and the operation', () => {
    const running = describeSnapshot(snapshotOf('EXECUTING'), START + 42_000, en);
    expect(running.elapsedMs).toBe(42_000);
    expect(running.endedAt).toBeNull();
    expect(running.operationLabel).toBe('Edit');
    expect(running.operation?.serviceName).toBe('FireWeatherWatch');
    const done = describeSnapshot(snapshotOf('COMPLETED'), START + 10_000_000, en);
    expect(done.elapsedMs).toBe(185_000);
    expect(done.endedAt).toBe(START + 185_000);
  });

  it('has no times and no operation before the first body', () => {
    const pending = describeSnapshot(snapshotOf(null), START, en);
    expect(pending).toMatchObject({
      elapsedMs: null,
      operation: null,
      username: null,
      status: 'pending',
    });
  });

  it('shows the messages, normalised, whatever shape the server sent', () => {
    const mixed = describeSnapshot(
      snapshotOf('FAILED', {
        messages: ['Stopping.', { type: 'esriJobMessageTypeError', description: 'Port in use.' }],
      }),
      START,
      en,
    );
    expect(mixed.messages).toEqual([
      { text: 'Stopping.' },
      { text: 'Port in use.', severity: 'error' },
    ]);
    expect(describeSnapshot(snapshotOf('FAILED'), START, en).messages).toEqual([]);
  });

  it('gives the reason of a failed or cancelled job, and none of one that succeeded', () => {
    expect(describeSnapshot(snapshotOf('FAILED', { result: 'Disk full.' }), START, en).reason).toBe(
      'Disk full.',
    );
    expect(
      describeSnapshot(snapshotOf('CANCELLED', { messages: ['Stopped by admin.'] }), START, en)
        .reason,
    ).toBe('Stopped by admin.');
    expect(
      describeSnapshot(snapshotOf('COMPLETED', { messages: ['Done.'] }), START, en).reason,
    ).toBeNull();
    expect(describeSnapshot(snapshotOf('FAILED'), START, en).reason).toBeNull();
  });

  it('skips message items without text, from a source that sends anything', () => {
    const odd = {
      ...snapshotOf('FAILED'),
      messages: [{ text: 'ok' }, { nope: 1 }, null],
    } as never;
    expect(describeSnapshot(odd, START, en).messages).toEqual([{ text: 'ok' }]);
  });

  it('never breaks on a result whose content is not what a server sends', () => {
    for (const result of [
      { stages: 'done' },
      { stages: [null, 5, { name: 7, state: 'completed', duration: {} }] },
      { service: 'Roads' },
      { service: { serviceName: 5 } },
    ]) {
      const view = describeSnapshot(snapshotOf('COMPLETED', { result }), START, en);
      expect(view.resultService).toBeNull();
      expect(view.stages.every((st) => typeof st.name === 'string')).toBe(true);
    }
  });

  it('reads a result that is a string, and stages without names', () => {
    const view = describeSnapshot(
      snapshotOf('COMPLETED', { result: { stages: [{ state: 'completed' }] } }),
      START,
      en,
    );
    expect(view.stages).toEqual([{ name: '', state: 'completed', duration: '' }]);
    expect(describeSnapshot(snapshotOf('FAILED', { result: 'x' }), START, en).stages).toEqual([]);
  });

  it('tolerates a result of unexpected shape', () => {
    const view = describeSnapshot(
      snapshotOf('COMPLETED', {
        result: { service: { serviceName: 'X', type: 'MapServer' }, extra: [1] },
      }),
      START,
      en,
    );
    expect(view.resultService).toEqual({ name: 'X', state: '' });
    expect(view.stages).toEqual([]);
  });
});

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    expect(formatDuration(0, 'en')).toBe('0s');
    expect(formatDuration(59_999, 'en')).toBe('59s');
    expect(formatDuration(60_000, 'en')).toBe('1m');
    expect(formatDuration(3_600_000 + 5_000, 'en')).toBe('1h');
    expect(formatDuration(7_325_000, 'en')).toBe('2h 2m');
  });

  it('falls back to English for a malformed language tag', () => {
    expect(formatDuration(5_000, 'not a tag!')).toBe('5s');
  });
});

describe('messages', () => {
  it('picks the catalogue by primary subtag, English otherwise, with overrides on top', () => {
    expect(messagesFor('de-CH').COMPLETED).toBe('Abgeschlossen');
    expect(messagesFor('fr').COMPLETED).toBe('Completed');
    expect(messagesFor('en', { COMPLETED: 'Done' }).COMPLETED).toBe('Done');
  });

  it('ships the same keys in every language', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(fill('{a} and {b}', { a: 1 })).toBe('1 and {b}');
    expect(fill('{toString}', {})).toBe('{toString}');
  });
});

describe('eta', () => {
  const eta = {
    middle: START + 40_000,
    low: START + 35_000,
    high: START + 60_000,
    basis: 23,
    overdue: false,
  };
  const running = { ...snapshotOf('EXECUTING'), eta };

  it('says how long is likely left, with its spread and basis, in the page language', () => {
    const v = describeSnapshot(running, START, en).eta!;
    expect(v).toEqual({
      overdue: false,
      left: 40_000,
      low: 35_000,
      high: 60_000,
      basis: 23,
    });
    expect(etaText(v, en, 'en')).toEqual({
      text: 'About 40s left',
      detail: 'usually 35s–1m, from 23 earlier',
    });
    expect(etaText(v, de, 'de').text).toBe(`Noch etwa ${formatDuration(40_000, 'de')}`);
  });

  it('counts down, never below zero, and says overdue past its interval', () => {
    expect(describeSnapshot(running, START + 20_000, en).eta).toMatchObject({
      left: 20_000,
      low: 15_000,
    });
    const due = describeSnapshot(running, START + 45_000, en).eta!;
    expect(due).toMatchObject({ overdue: false, left: 0, low: 0 });
    expect(etaText(due, en, 'en').text).toBe('Ending about now');
    const over = describeSnapshot(running, START + 61_000, en).eta!;
    expect(over).toMatchObject({ overdue: true, left: 0 });
    expect(etaText(over, en, 'en')).toEqual({
      text: 'Taking longer than usual',
      detail: 'from 23 earlier',
    });
  });

  it('shows nothing without a basis, once the job has ended, or for an eta it cannot read', () => {
    expect(describeSnapshot(snapshotOf('EXECUTING'), START, en).eta).toBeNull();
    expect(describeSnapshot({ ...snapshotOf('COMPLETED'), eta }, START, en).eta).toBeNull();
    const broken = { ...running, eta: { ...eta, high: 'soon' } } as unknown as typeof running;
    expect(describeSnapshot(broken, START, en).eta).toBeNull();
  });
});
