/**
 * The precompiled validators of `@jobwatch/schema`: ajv's standalone code for every body
 * the package parses, made from the TypeBox definitions at development time, so that
 * parsing needs neither ajv's compiler nor `new Function` at runtime (pages whose Content
 * Security Policy forbids `'unsafe-eval'` can parse, and bundles carry no compiler).
 * Shared by the generator (`gen-validators.ts`) and the test that fails when the committed
 * module drifts from the schemas.
 */
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import type { TSchema } from 'typebox';
import {
  AdminErrorBodySchema,
  AdminSuccessSchema,
  JobHandleSchema,
  JobListSchema,
  JobSchema,
  RestErrorBodySchema,
  SiteInfoSchema,
  TokenResponseSchema,
} from '../src/schemas/bodies.js';
import { WatchJobRequestSchema, WatchRequestSchema } from '../src/schemas/protocol.js';
import { ServiceListSchema, ServiceSchema } from '../src/schemas/service.js';
import { SnapshotSchema } from '../src/schemas/snapshot.js';
import { GpJobSchema, ItemStatusSchema, ServerJobSchema } from '../src/schemas/sources.js';
import { describeSchema } from '../src/validate.js';
import { repairCode } from './repairers.js';

/** The command that rewrites the module, for messages. */
export const GEN_VALIDATORS_COMMAND = 'pnpm --filter @jobwatch/schema gen:validators';

/** Where the modules live, relative to the package root. */
export const VALIDATORS_DIR = 'src/generated/';

/**
 * The ajv options of the precompiled validators: those of `validatorFor` (strict mode, every
 * error) but without `verbose`. Messages need each failing value, which the parser reads from
 * the input at the error's `instancePath`, and what the failing schema accepts, which comes
 * from the `expected` table generated beside each validator (so ajv's own messages are
 * left out).
 */
export const PRECOMPILED_OPTIONS = {
  strict: true,
  allErrors: true,
  allowUnionTypes: true,
  // ajv's own messages are never shown: the table says what was expected.
  messages: false,
} as const;

/**
 * The validators whose parser is tolerant (`tolerant.ts`): each gets a repairer too, code
 * generated beside the validator that repairs a body in one pass (`repairers.ts`).
 */
export const TOLERANT: ReadonlySet<PrecompiledName> = new Set([
  'job',
  'jobList',
  'jobHandle',
  'siteInfo',
  'service',
  'serviceList',
  'serverJob',
  'gpJob',
  'itemStatus',
]);

/** Every schema that gets a precompiled validator, under the name it is exported as. */
export const PRECOMPILED_SCHEMAS = {
  job: JobSchema,
  jobList: JobListSchema,
  jobHandle: JobHandleSchema,
  adminSuccess: AdminSuccessSchema,
  tokenResponse: TokenResponseSchema,
  siteInfo: SiteInfoSchema,
  restErrorBody: RestErrorBodySchema,
  adminErrorBody: AdminErrorBodySchema,
  service: ServiceSchema,
  serviceList: ServiceListSchema,
  snapshot: SnapshotSchema,
  watchRequest: WatchRequestSchema,
  watchJobRequest: WatchJobRequestSchema,
  serverJob: ServerJobSchema,
  gpJob: GpJobSchema,
  itemStatus: ItemStatusSchema,
} as const satisfies Record<string, TSchema>;

/** A name in {@link PRECOMPILED_SCHEMAS}. */
export type PrecompiledName = keyof typeof PRECOMPILED_SCHEMAS;

/** ajv's spelling of a key inside a `schemaPath` (`~` and `/` escaped, then URI-encoded). */
const escapeFragment = (key: string): string =>
  encodeURIComponent(key.replace(/~/g, '~0').replace(/\//g, '~1'));

/** Keywords whose value is one subschema, a map of them, or a list of them. */
const ONE = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains'];
const MAP = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];
const LIST = ['anyOf', 'allOf', 'oneOf', 'prefixItems'];

/** Keywords that check nothing, or whose failures are reported at a subschema's own path. */
const QUIET = new Set([
  'type',
  'description',
  'title',
  'properties',
  'patternProperties',
  'required',
  'items',
  '$id',
  '$schema',
]);

/**
 * What subschemas accept, in words (`describeSchema`), by their `schemaPath` as ajv reports
 * it (`#/properties/status`): an error's parent schema is its `schemaPath` without the last
 * segment; a missing property's is `<parent>/properties/<name>`. Left out, to keep bundles
 * small: subschemas that are not a required property and whose only possible failure is
 * their `type`, which the parser words from the error itself (`expectedOf` in validate.ts).
 */
export function expectedTable(schema: TSchema): Record<string, string> {
  const table: Record<string, string> = {};
  const visit = (node: unknown, path: string, required: boolean): void => {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
    const s = node as Record<string, unknown>;
    const described = describeSchema(s);
    const onlyType =
      (typeof s.type === 'string' || Array.isArray(s.type)) &&
      described === describeSchema({ type: s.type }) &&
      Object.keys(s).every((k) => QUIET.has(k) || (k === 'additionalProperties' && s[k] === true));
    if (required || !onlyType) table[path] = described;
    const requiredHere = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
    for (const key of ONE) if (key in s) visit(s[key], `${path}/${key}`, false);
    for (const key of MAP) {
      const map = s[key];
      if (typeof map !== 'object' || map === null) continue;
      for (const [name, sub] of Object.entries(map)) {
        const here = key === 'properties' && requiredHere.has(name);
        visit(sub, `${path}/${key}/${escapeFragment(name)}`, here);
      }
    }
    for (const key of LIST) {
      const list = s[key];
      if (!Array.isArray(list)) continue;
      for (const [i, sub] of list.entries()) visit(sub, `${path}/${key}/${i}`, false);
    }
  };
  visit(JSON.parse(JSON.stringify(schema)), '#', false);
  return table;
}

/** The end (exclusive) of the JSON value that starts at `start` in `text`. */
function endOfJson(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i += 1) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i += 1;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth += 1;
    else if (ch === '}' || ch === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error('unterminated JSON value in generated code');
}

/**
 * Replaces ajv's references into a schema constant (`schema11.properties.starttime.type`,
 * which it writes for a `type` list such as `["number", "null"]`) by the JSON of the value
 * they reach, so that the constant itself can go.
 */
function inlineSchemaReferences(code: string): string {
  const constants = new Map<string, unknown>();
  for (const match of code.matchAll(/const (schema\d+) = /g)) {
    const start = (match.index ?? 0) + match[0].length;
    constants.set(match[1] as string, JSON.parse(code.slice(start, endOfJson(code, start))));
  }
  return code.replace(
    /\b(schema\d+)((?:\.[A-Za-z_$][\w$]*|\[\d+\])+)/g,
    (whole, name: string, path: string) => {
      if (!constants.has(name)) return whole;
      let value: unknown = constants.get(name);
      for (const [, key, index] of path.matchAll(/\.([A-Za-z_$][\w$]*)|\[(\d+)\]/g)) {
        value = (value as Record<string, unknown>)[(key ?? index) as string];
      }
      if (value === undefined) throw new Error(`generated code reads ${whole}, which is missing`);
      return JSON.stringify(value);
    },
  );
}

/** Drops `const schemaN = {...};` declarations that nothing references (ajv emits them). */
function dropUnusedSchemaConstants(code: string): string {
  let out = code;
  for (;;) {
    const match = /const (schema\d+) = /.exec(out);
    if (!match) return out;
    const name = match[1] as string;
    const valueStart = match.index + match[0].length;
    let end = endOfJson(out, valueStart);
    if (out[end] === ';') end += 1;
    const rest = out.slice(0, match.index) + out.slice(end);
    if (new RegExp(`\\b${name}\\b`).test(rest)) {
      throw new Error(`generated code uses ${name}; keep it (the generator does not expect this)`);
    }
    out = rest;
  }
}

/** ajv's Unicode-aware string length, inlined so the module imports nothing at runtime. */
const UCS2LENGTH = `function ucs2length(str) {
  const len = str.length;
  let length = 0;
  let pos = 0;
  let value;
  while (pos < len) {
    length++;
    value = str.charCodeAt(pos++);
    if (value >= 0xd800 && value <= 0xdbff && pos < len) {
      value = str.charCodeAt(pos);
      if ((value & 0xfc00) === 0xdc00) pos++;
    }
  }
  return length;
}`;

const header = (
  name: string,
) => `// Generated by \`${GEN_VALIDATORS_COMMAND}\` from the TypeBox schema of
// \`${name}\` in src/schemas/ (ajv standalone code). Do not edit: change the schema, then run
// the command. A test fails while this file is out of date.
// @ts-nocheck: ajv's generated code is plain JavaScript; the export is typed below.
import type { Precompiled } from '../validate.js';
`;

/** The file of one validator, relative to `src/generated/`. */
export const fileNameOf = (name: PrecompiledName): string => `${name}.ts`;

/**
 * The exact text of `src/generated/<name>.ts` for every precompiled validator. One module
 * each, sharing nothing, so that a bundle split into chunks carries each validator only in
 * the chunk whose code parses that body.
 */
export function validatorModules(): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of Object.keys(PRECOMPILED_SCHEMAS) as PrecompiledName[]) {
    files.set(fileNameOf(name), validatorModule(name));
  }
  return files;
}

function validatorModule(name: PrecompiledName): string {
  const schema = PRECOMPILED_SCHEMAS[name];
  const ajv = new Ajv({ ...PRECOMPILED_OPTIONS, code: { esm: true, source: true, lines: true } });
  let code = standalone.default(ajv, ajv.compile(schema));

  // ajv exports the validator as `export const validate = validateN; export default validateN;`:
  // export it typed instead, with its table.
  const exported = /export const validate = (validate\d+);/.exec(code)?.[1];
  if (!exported) throw new Error(`ajv exported no validator for ${name}`);
  code = code.replace(/export const validate = validate\d+;/, '');
  code = code.replace(/export default validate\d+;/, '');
  code = code.replace(/^"use strict";/, '');
  code = code.replace(/require\("ajv\/dist\/runtime\/ucs2length"\)\.default/g, 'ucs2length');
  code = dropUnusedSchemaConstants(inlineSchemaReferences(code));
  for (const forbidden of ['require(', 'export ', 'import ', 'new Function', 'eval(']) {
    if (code.includes(forbidden)) {
      throw new Error(`generated code contains "${forbidden}": teach the generator about it`);
    }
  }
  const table = JSON.stringify(expectedTable(schema), null, 2);
  const repairer = TOLERANT.has(name) ? repairCode(schema) : undefined;
  const usesLength = /\bucs2length\b/.test(code);
  const repairPart = repairer ? `\n\n${repairer.code}` : '';
  const repairField = repairer ? `, repair: ${repairer.entry}` : '';
  return `${header(name)}\n${usesLength ? `${UCS2LENGTH}\n` : ''}${code.trim()}${repairPart}

/** Precompiled validator of \`${name}\`. */
export const ${name}: Precompiled = { validate: ${exported}, expected: ${table}${repairField} };
`;
}
