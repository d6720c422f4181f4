import { describe, expectTypeOf, it } from 'vitest';
import type {
  FaultKindValue,
  JobEnd,
  JobSpec,
  QuirkNameValue,
  QuirksOption,
  SimStats,
  Simulator,
  SimulatorOptions,
} from '../src/index.js';
import { startSimulator } from '../src/index.js';

describe('public types', () => {
  it('startSimulator takes optional options and resolves to a Simulator', () => {
    expectTypeOf(startSimulator).parameter(0).toEqualTypeOf<SimulatorOptions | undefined>();
    expectTypeOf(startSimulator).returns.resolves.toEqualTypeOf<Simulator>();
  });

  it('names the four ends and the nine fault kinds as unions', () => {
    expectTypeOf<JobEnd>().toEqualTypeOf<'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED OUT'>();
    expectTypeOf<FaultKindValue>().toEqualTypeOf<
      | 'http502'
      | 'http503'
      | 'http504'
      | 'reset'
      | 'delay'
      | 'malformed'
      | 'truncated'
      | 'empty'
      | 'http429'
    >();
    expectTypeOf<JobSpec['outcome']>().toEqualTypeOf<JobEnd>();
  });

  it('keeps the clock option to real, manual or a speed', () => {
    expectTypeOf<{ clock: 'manual' }>().toMatchTypeOf<SimulatorOptions>();
    expectTypeOf<{ clock: { speed: 60 } }>().toMatchTypeOf<SimulatorOptions>();
    expectTypeOf<{ clock: 'fast' }>().not.toMatchTypeOf<SimulatorOptions>();
  });

  it('takes quirks as a boolean or a list of known names, and one of three token headers', () => {
    expectTypeOf<QuirksOption>().toEqualTypeOf<boolean | readonly QuirkNameValue[]>();
    expectTypeOf<SimulatorOptions['quirks']>().toEqualTypeOf<QuirksOption | undefined>();
    expectTypeOf<JobSpec['quirks']>().toEqualTypeOf<QuirksOption | undefined>();
    expectTypeOf<{ quirks: ['errorStatus', 'nullUsername'] }>().toMatchTypeOf<SimulatorOptions>();
    expectTypeOf<{ quirks: ['noSuchQuirk'] }>().not.toMatchTypeOf<SimulatorOptions>();
    expectTypeOf<SimulatorOptions['tokenHeader']>().toEqualTypeOf<
      'both' | 'x-esri-authorization' | 'authorization' | undefined
    >();
  });

  it('counts requests by the documented routes', () => {
    expectTypeOf<keyof SimStats['byRoute']>().toEqualTypeOf<
      | 'generateToken'
      | 'site'
      | 'jobsList'
      | 'job'
      | 'services'
      | 'service'
      | 'operation'
      | 'backup'
      | 'sim'
      | 'other'
      | 'serverAdmin'
      | 'serverJobsList'
      | 'serverJob'
      | 'serverOperation'
      | 'gpCatalog'
      | 'gpSubmit'
      | 'gpJob'
      | 'gpCancel'
      | 'gpParam'
      | 'itemStatus'
    >();
    expectTypeOf<Simulator['createJob']>().returns.toMatchTypeOf<string>();
  });
});
