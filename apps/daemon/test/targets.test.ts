/** What `wait` and `submit` read from their arguments, before any request. */
import { describe, expect, it } from 'vitest';
import { parseParams } from '../src/cli/submit.js';
import { parseTargets } from '../src/cli/targets.js';
import { resultLines } from '../src/cli/wait.js';
import { isDaemonError } from '../src/errors.js';

const SERVER =
  'https://gis.example.com/server/admin/system/jobs/j97dec204-32b7-4a3f-bbb7-7565e0f8259f';
const GP =
  'https://gis.example.com/server/rest/services/Tools/Buffer/GPServer/BufferPoints/jobs/jf082fc6d926043fda44169444963fe46';

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isDaemonError(error)).toBe(true);
    expect((error as { code: string }).code).toBe('USAGE');
    return (error as Error).message;
  }
  throw new Error('no usage error');
}

describe('parseTargets', () => {
  it('reads bare ids as admin jobs and URLs as jobs of their source, each once', () => {
    const targets = parseTargets([
      'j1',
      SERVER,
      GP,
      `${SERVER.replace('gis.example.com', 'GIS.example.com')}/?f=json`,
      'j1',
    ]);
    expect(targets.map((t) => [t.kind, t.label])).toEqual([
      ['id', 'j1'],
      ['ref', 'j97dec204-32b7-4a3f-bbb7-7565e0f8259f'],
      ['ref', 'jf082fc6d926043fda44169444963fe46'],
    ]);
    expect(targets[2]).toMatchObject({ ref: { source: 'gp' } });
  });

  it('labels two jobs with one id by their URLs', () => {
    const other = SERVER.replace('/server/', '/other/');
    const labels = parseTargets([SERVER, other]).map((t) => t.label);
    expect(labels).toEqual([SERVER, other]);
  });

  it('refuses a hostile URL or id with a usage error that shows no secret', () => {
    expect(usage(() => parseTargets([`${GP}?token=SECRET`]))).not.toContain('SECRET');
    expect(
      usage(() => parseTargets(['https://admin:hunter2@gis.example.com/arcgis/admin/jobs/j1'])),
    ).not.toContain('hunter2');
    expect(
      usage(() => parseTargets([SERVER.replace('/system/jobs/', '/system/jobs/../')])),
    ).toMatch(/job URL/);
    expect(usage(() => parseTargets(['../services/x']))).toMatch(/job id/);
  });
});

describe('parseParams', () => {
  it('reads name=value pairs, splitting at the first "="', () => {
    expect(parseParams(['Distance={"distance":100}', 'Expr=a=b', 'Empty='])).toEqual({
      Distance: '{"distance":100}',
      Expr: 'a=b',
      Empty: '',
    });
  });

  it.each([
    ['no name', '=x'],
    ['no "="', 'Distance'],
    ['an unsafe name', 'a&b=1'],
    ['f', 'f=html'],
    ['token', 'token=x'],
  ])('refuses %s', (_what, pair) => {
    usage(() => parseParams([pair]));
  });

  it('refuses a name given twice', () => {
    expect(usage(() => parseParams(['a=1', 'a=2']))).toMatch(/given twice/);
  });
});

describe('resultLines', () => {
  it('prints one "<job>  <name>  <url>" line per result, nothing without results', () => {
    const snapshot = { results: [{ name: 'Output', url: `${GP}/results/Output` }] };
    expect(resultLines('j1', snapshot as never)).toBe(`j1  Output  ${GP}/results/Output\n`);
    expect(resultLines('j1', {} as never)).toBe('');
  });
});
