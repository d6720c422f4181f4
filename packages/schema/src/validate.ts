import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv } from 'ajv';
import type { TSchema } from 'typebox';
import { type SafeParseResult, SchemaError, type SchemaIssue } from './errors.js';

let ajv: Ajv | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();
let compilations = 0;

/**
 * How many schemas have been compiled so far in this module instance. Internal (not
 * re-exported by the package): tests use it to prove that importing compiles nothing and
 * that each validator compiles once.
 */
export function compilationCount(): number {
  return compilations;
}

/** One shared ajv instance, made on first use so importing the package costs nothing. */
function engine(): Ajv {
  ajv ??= new Ajv({ strict: true, allErrors: true, verbose: true, allowUnionTypes: true });
  return ajv;
}

/**
 * The compiled ajv validator for a TypeBox schema, compiled on first use and cached per
 * schema object (the same function comes back on every later call).
 *
 * Use it to validate a schema of your own that embeds jobwatch's schemas; for jobwatch's
 * bodies, prefer the `parse*` functions, which turn ajv's errors into a {@link SchemaError}.
 */
export function validatorFor(schema: TSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = engine().compile(schema);
    compilations += 1;
    compiled.set(schema, fn);
  }
  return fn;
}

/** Options of {@link parser}. */
export interface ParserOptions {
  /**
   * JSON pointers of values that must never appear in an error (a token, a password): an
   * issue there says what type was found, not the value.
   */
  readonly secret?: readonly string[];
}

/** A `parse`/`safeParse` pair, as {@link parser} makes. */
export interface Parser<T> {
  /** Returns `input` typed as `T`, or throws a {@link SchemaError}. */
  readonly parse: (input: unknown) => T;
  /** Returns `{ success: true, data }` or `{ success: false, error }`; never throws. */
  readonly safeParse: (input: unknown) => SafeParseResult<T>;
}

/**
 * A `parse*`/`safeParse*` pair for one schema, under the name `kind` used in messages.
 * Nothing is compiled until the first call.
 */
export function parser<T>(kind: string, schema: TSchema, options: ParserOptions = {}): Parser<T> {
  const secret = new Set(options.secret ?? []);
  const safeParse = (input: unknown): SafeParseResult<T> => {
    const validate = validatorFor(schema);
    if (validate(input)) return { success: true, data: input as T };
    const issues = toIssues(kind, validate.errors ?? [], secret);
    return { success: false, error: new SchemaError(kind, issues) };
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
    const bareTypes = new Set(
      alternatives
        .filter((a) => typeof a.type === 'string' && !a.enum && !a.pattern)
        .map((a) => a.type),
    );
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

/** Names a secret value's type without showing it: `a string (not shown)`. */
function describeHidden(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'array' : typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (not shown)`;
}

function toIssues(
  kind: string,
  errors: readonly ErrorObject[],
  secret: ReadonlySet<string>,
): SchemaIssue[] {
  // anyOf errors summarise their branches: keep the summary, drop the branch noise.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const isBranch = (e: ErrorObject) =>
    e.keyword !== 'anyOf' &&
    unions.some(
      (u) =>
        e.schemaPath.startsWith(`${u.schemaPath}/`) && e.instancePath.startsWith(u.instancePath),
    );
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
      const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)
        ?.properties;
      expected = describeSchema(props?.[prop]);
      found = 'missing';
    } else {
      const described = describeSchema(e.parentSchema);
      expected = described === 'a valid value' && e.message ? e.message : described;
      found = secret.has(pointer) ? describeHidden(e.data) : describeValue(e.data);
    }
    const key = `${pointer}\u0000${expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ pointer, path: pointerToPath(kind, pointer), expected, found });
  }
  return issues;
}
