/**
 * Issue 2: what validating a job body adds on top of `JSON.parse`.
 *
 * Both variants read the same text (the seed's completed `edit` job, the largest body
 * jobwatch polls) in one run, with interleaved samples; the figure is the median of the
 * per-sample overheads `(parse+validate − parse) / parse`.
 */
import { readFileSync } from 'node:fs';
import { parseJob, parseService } from '@jobwatch/schema';
import { type Benchmark, compare, percentile, row } from '../harness.js';

const text = readFileSync(
  new URL('../../fixtures/job-completed-edit.json', import.meta.url),
  'utf8',
);
const serviceText = JSON.stringify(
  (JSON.parse(text) as { result: { service: unknown } }).result.service,
);

const bench: Benchmark = {
  name: 'schema',
  issue: 2,
  async run({ full }) {
    const options = full
      ? { iterations: 5_000, samples: 60, warmup: 20_000 }
      : { iterations: 2_000, samples: 25, warmup: 5_000 };
    // Fail loudly rather than time a validator that rejects the fixture.
    if (parseJob(JSON.parse(text)).status !== 'COMPLETED') throw new Error('fixture did not parse');

    const t = compare(
      {
        parse: () => JSON.parse(text),
        parseValidate: () => parseJob(JSON.parse(text)),
        serviceParse: () => JSON.parse(serviceText),
        serviceParseValidate: () => parseService(JSON.parse(serviceText)),
      },
      options,
    );
    const overhead = (a: number[], b: number[]) =>
      percentile(
        a.map((withValidation, i) => (withValidation - (b[i] as number)) / (b[i] as number)),
        50,
      );
    const jobOverhead = overhead(t.parseValidate.samples, t.parse.samples);
    const serviceOverhead = overhead(t.serviceParseValidate.samples, t.serviceParse.samples);
    const bytes = Buffer.byteLength(text);
    return [
      row('schema', 'job validate overhead (÷ JSON.parse)', jobOverhead, '×', { atMost: 0.5 }),
      row('schema', 'job JSON.parse', t.parse.nsPerOp / 1000, 'µs/op'),
      row('schema', 'job JSON.parse + parseJob', t.parseValidate.nsPerOp / 1000, 'µs/op'),
      row('schema', 'job body size', bytes, 'bytes'),
      row('schema', 'service validate overhead (÷ JSON.parse)', serviceOverhead, '×'),
    ];
  },
};

export default bench;
