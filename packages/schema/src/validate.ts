import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv } from 'ajv';
import type { TSchema } from 'typebox';
import { type SafeParseResult, SchemaError, type SchemaIssue } from './errors.js';

let ajv: Ajv | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();

/** One shared ajv instance, made on first use so importing the package costs nothing. */
function engine(): Ajv {
  ajv ??= new Ajv({ strict: true, allErrors: true, verbose: true, allowUnionTypes: true });
  return ajv;
}

/** The compiled validator for a schema, compiled once on first use. */
export function validatorFor(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = engine().compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** A `parse*`/`safeParse*` pair for one schema, under the name `kind` used in messages. */
export function parser<T>(kind: string, schema: TSchema) {
  const safeParse = (input: unknown): SafeParseResult<T> => {
    const validate = validatorFor(schema);
    if (validate(input)) return { success: true, data: input as T };
    return { success: false, error: new SchemaError(kind, toIssues(kind, validate.errors ?? [])) };
  };
  const parse = (input: unknown): T => {
    const result = safeParse(input);
    if (!result.success) throw result.error;
    return result.data;
  };
  return { parse, safeParse };
}

/** Turns a JSON pointer into a path for people: `/result/extensions/0/enabled` → `job.result.extensions[0].enabled`. */
export function pointerToPath(kind: string, pointer: string): string {
  if (pointer === '') return kind;
  let out = kind;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A short, safe description of a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      const text = value.length > 40 ? `${value.slice(0, 37)}...` : value;
      return JSON.stringify(text);
    }
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** Describes what a (sub)schema accepts, in words. */
export function describeSchema(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return 'a valid value';
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.anyOf)) {
    const alternatives = s.anyOf as Record<string, unknown>[];
    const bareTypes = new Set(alternatives.filter((a) => typeof a.type === 'string' && !a.enum && !a.pattern).map((a) => a.type));
    const words = alternatives
      // An enum of strings next to a bare string adds nothing a reader needs.
      .filter((a) => !(Array.isArray(a.enum) && a.enum.every((v) => bareTypes.has(typeof v))))
      .map(describeSchema);
    return [...new Set(words)].join(' or ');
  }
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if ('const' in s) return JSON.stringify(s.const);
  if (typeof s.pattern === 'string') return `a string matching ${s.pattern}`;
  if (typeof s.type === 'string') return TYPE_WORDS[s.type] ?? s.type;
  if (Array.isArray(s.type)) return s.type.map((t) => TYPE_WORDS[t as string] ?? t).join(' or ');
  return 'a valid value';
}

function toIssues(kind: string, errors: readonly ErrorObject[]): SchemaIssue[] {
  // anyOf errors summarise their branches: keep the summary, drop the branch noise.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const isBranch = (e: ErrorObject) =>
    e.keyword !== 'anyOf' && unions.some((u) => e.schemaPath.startsWith(`${u.schemaPath}/`) && e.instancePath.startsWith(u.instancePath));
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (isBranch(e)) continue;
    let pointer = e.instancePath;
    let expected: string;
    let found: string;
    if (e.keyword === 'required') {
      const prop = (e.params as { missingProperty: string }).missingProperty;
      pointer = `${e.instancePath}/${escapePointer(prop)}`;
      const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
      expected = describeSchema(props?.[prop]);
      found = 'missing';
    } else {
      const described = describeSchema(e.parentSchema);
      expected = described === 'a valid value' && e.message ? e.message : described;
      found = describeValue(e.data);
    }
    const key = `${pointer}\u0000${expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ pointer, path: pointerToPath(kind, pointer), expected, found });
  }
  return issues;
}
