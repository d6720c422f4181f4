/**
 * Issues 2 and 12: what reading a job body adds on top of `JSON.parse`.
 *
 * Both variants read the same text (the seed's completed `edit` job, the largest body
 * jobwatch polls) in one run, with interleaved samples; the figure is the median of the
 * per-pair overheads `(parse+validate − parse) / parse`, cross-checked by the ratio of the
 * fastest samples. The same again for the tolerant path at work: that job with five fields
 * in another shape (a numeric-string `starttime`, a numeric `username`, a `maxIdleTime` that
 * is not a number, a numeric extension `enabled`, a word for `isHosted`), each repaired or
 * taken out with a warning in a copy of the body. Also: `parseJob` (its precompiled validator and the wrapper around it)
 * against the bare ajv validator of the same schema compiled at run time (`validatorFor`,
 * what parsing ran before), on the parsed body; at most 5% slower counts as as fast, for
 * noise on a shared machine (the old `parseJob` added a cache lookup and the same wrapper).
 */
import { readFileSync } from 'node:fs';
import { JobSchema, parseJob, parseService, safeParseJob, validatorFor } from '@jobwatch/schema';
import { type Benchmark, compare, percentile, row } from '../harness.js';

const text = readFileSync(
  new URL('../../fixtures/job-completed-edit.json', import.meta.url),
  'utf8',
);
/** The seed's completed job with five fields in another shape: five warnings. */
function fiveWarnings(source: string): string {
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body edited freely.
  const body = JSON.parse(source) as any;
  body.starttime = String(body.starttime);
  body.username = 42;
  body.result.service.maxIdleTime = 'PT30M';
  body.result.service.extensions[0].enabled = 1;
  body.result.service.portalProperties.isHosted = 'yes';
  return JSON.stringify(body);
}
const warnText = fiveWarnings(text);

const serviceText = JSON.stringify(
  (JSON.parse(text) as { result: { service: unknown } }).result.service,
);

/** Median of the paired overheads `(with − without) / without`, sample by sample. */
function pairedOverhead(withValidation: readonly number[], without: readonly number[]): number {
  return percentile(
    withValidation.map((w, i) => (w - (without[i] as number)) / (without[i] as number)),
    50,
  );
}

const bench: Benchmark = {
  name: 'schema',
  issue: 2,
  async run({ full }) {
    // Many short, interleaved samples: on a shared machine a preempted sample then spoils
    // one pair, not the figure.
    const options = full
      ? { iterations: 1_000, samples: 300, warmup: 20_000 }
      : { iterations: 500, samples: 100, warmup: 5_000 };
    // Fail loudly rather than time a validator that rejects the fixture.
    if (parseJob(JSON.parse(text)).status !== 'COMPLETED') throw new Error('fixture did not parse');

    // Precompiled (parseJob) against compiled at run time, validation alone, interleaved —
    // first, while both have seen only the fixture: the tolerant path below hands the
    // validator bodies of other shapes, which make its inline caches polymorphic.
    const body = JSON.parse(text);
    const runtime = validatorFor(JobSchema);
    if (!runtime(body)) throw new Error('fixture did not validate at run time');
    const v = compare({ precompiled: () => parseJob(body), runtime: () => runtime(body) }, options);
    const speed = percentile(
      v.precompiled.samples.map((p, i) => p / (v.runtime.samples[i] as number)),
      50,
    );

    // Fail loudly rather than time a body that does not take the tolerant path five times.
    const tolerated = safeParseJob(JSON.parse(warnText));
    if (!tolerated.success || tolerated.warnings.length !== 5) {
      throw new Error('the five-warning body did not give five warnings');
    }
    const t = compare(
      {
        parse: () => JSON.parse(text),
        parseValidate: () => parseJob(JSON.parse(text)),
        warnParse: () => JSON.parse(warnText),
        warnParseValidate: () => safeParseJob(JSON.parse(warnText)),
        serviceParse: () => JSON.parse(serviceText),
        serviceParseValidate: () => parseService(JSON.parse(serviceText)),
      },
      options,
    );
    const job = pairedOverhead(t.parseValidate.samples, t.parse.samples);
    const warned = pairedOverhead(t.warnParseValidate.samples, t.warnParse.samples);
    const bestWarned = t.warnParseValidate.minNsPerOp / t.warnParse.minNsPerOp - 1;
    const service = pairedOverhead(t.serviceParseValidate.samples, t.serviceParse.samples);
    const bestJob = t.parseValidate.minNsPerOp / t.parse.minNsPerOp - 1;
    return [
      row('schema', 'job validate overhead (÷ JSON.parse)', job, '×', { atMost: 0.5 }),
      row('schema', 'job validate overhead, fastest samples', bestJob, '×', { atMost: 0.5 }),
      row('schema', 'job JSON.parse (fastest)', t.parse.minNsPerOp / 1000, 'µs/op'),
      row(
        'schema',
        'job JSON.parse + parseJob (fastest)',
        t.parseValidate.minNsPerOp / 1000,
        'µs/op',
      ),
      row('schema', 'job body size', Buffer.byteLength(text), 'bytes'),
      row('schema', 'job with 5 warnings: overhead (÷ JSON.parse)', warned, '×', {
        atMost: 0.5,
      }),
      row('schema', 'job with 5 warnings: overhead, fastest samples', bestWarned, '×', {
        atMost: 0.5,
      }),
      row(
        'schema',
        'job with 5 warnings: JSON.parse + safeParseJob (fastest)',
        t.warnParseValidate.minNsPerOp / 1000,
        'µs/op',
      ),
      row('schema', 'service validate overhead (÷ JSON.parse)', service, '×'),
      row('schema', 'parseJob (precompiled) ÷ ajv compiled at run time', speed, '×', {
        atMost: 1.05,
      }),
      row(
        'schema',
        'job validate, precompiled (fastest)',
        v.precompiled.minNsPerOp / 1000,
        'µs/op',
      ),
      row(
        'schema',
        'job validate, compiled at run time (fastest)',
        v.runtime.minNsPerOp / 1000,
        'µs/op',
      ),
    ];
  },
};

export default bench;
