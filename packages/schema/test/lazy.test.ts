import { expect, it } from 'vitest';
import { completedJob, fixture } from './fixtures.js';

// Vitest gives each test file fresh modules, so this file sees the package's first import.
it('importing the package compiles nothing; each validator compiles once, on first use', async () => {
  const internals = await import('../src/validate.js');
  const pkg = await import('../src/index.js');
  expect(internals.compilationCount()).toBe(0);

  // Helpers that need no validator stay free.
  pkg.parseJobId('j1');
  pkg.statusKind('COMPLETED');
  pkg.parseOperationUri('/a/admin/services/S.MapServer/edit');
  pkg.makeSnapshot({
    deployment: 'd',
    jobid: 'j1',
    job: null,
    firstSeen: 0,
    lastPolled: null,
    lastChanged: 0,
  });
  expect(internals.compilationCount()).toBe(0);

  pkg.parseJob(completedJob());
  expect(internals.compilationCount()).toBe(1);
  pkg.parseJob(fixture('job-executing'));
  pkg.safeParseJob({ not: 'a job' });
  expect(internals.compilationCount()).toBe(1);

  pkg.parseService(completedJob().result.service);
  expect(internals.compilationCount()).toBe(2);

  // readErrorBody tries format A, then format B: two more, once.
  pkg.readErrorBody({ status: 'error' });
  pkg.readErrorBody({ status: 'error' });
  expect(internals.compilationCount()).toBe(4);

  // validatorFor hands back the cached function.
  const validate = pkg.validatorFor(pkg.JobSchema);
  expect(pkg.validatorFor(pkg.JobSchema)).toBe(validate);
  expect(internals.compilationCount()).toBe(4);
  expect(validate(completedJob())).toBe(true);
});
