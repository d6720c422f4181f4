/**
 * The parse path: runs a precompiled validator and turns its errors into a
 * {@link SchemaError}. Nothing here compiles or evaluates code, so parsing works under a
 * Content Security Policy without `'unsafe-eval'`; ajv's compiler lives in `compile.ts`.
 */
import type { ErrorObject } from 'ajv';
import {
  type SafeParseResult,
  SchemaError,
  type SchemaIssue,
  type SchemaWarning,
} from './errors.js';
import type { Repairs } from './tolerant.js';

/**
 * A validator generated ahead of time by ajv's standalone code (`src/generated/<name>.ts`,
 * written by `pnpm --filter @jobwatch/schema gen:validators`), with what its subschemas
 * accept, in words.
 */
export interface Precompiled {
  /** Validates `data`; after a `false`, `validate.errors` holds ajv's (non-verbose) errors. */
  readonly validate: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
  /**
   * {@link describeSchema} of subschemas by their ajv `schemaPath` (`#/properties/status`):
   * every required property, and every subschema whose failures a `type` error cannot word
   * by itself (see {@link expectedOf}).
   */
  readonly expected: Readonly<Record<string, string>>;
  /**
   * For a tolerant parser: the generated code that repairs a body in one pass (see
   * `tolerant.ts`); returns the body itself when nothing changed.
   */
  readonly repair?: (value: unknown, pointer: string, repairs: Repairs) => unknown;
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
export interface Parser<T, C = undefined> {
  /** Returns `input` typed as `T`, or throws a {@link SchemaError}. */
  readonly parse: (input: unknown, context?: C) => T;
  /** Returns `{ success: true, data, warnings }` or `{ success: false, error }`; never throws. */
  readonly safeParse: (input: unknown, context?: C) => SafeParseResult<T>;
}

/** The warnings of a body in its documented shape: none, one shared frozen list. */
export const NO_WARNINGS: readonly SchemaWarning[] = Object.freeze([]);

/**
 * A `parse*`/`safeParse*` pair for one precompiled validator, under the name `kind` used in
 * messages. Nothing is compiled, now or later.
 */
export function parser<T>(
  kind: string,
  compiled: Precompiled,
  options: ParserOptions = {},
): Parser<T> {
  const secret = new Set(options.secret ?? []);
  const { validate } = compiled;
  const safeParse = (input: unknown): SafeParseResult<T> => {
    if (validate(input)) return { success: true, data: input as T, warnings: NO_WARNINGS };
    const issues = toIssues(kind, input, validate.errors ?? [], compiled.expected, secret);
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
const unescapePointer = (key: string) => key.replace(/~1/g, '/').replace(/~0/g, '~');

/** The value at a JSON pointer in `root`, or `undefined` when there is none. */
function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = unescapePointer(raw);
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The `schemaPath` of the schema holding an error's keyword: `#/properties/a/type` → `#/properties/a`. */
const parentOf = (schemaPath: string) => schemaPath.slice(0, schemaPath.lastIndexOf('/'));

/** Characters `JSON.stringify` escapes in a string. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A short, safe description of a value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      const text = value.length > 40 ? `${value.slice(0, 37)}...` : value;
      // What JSON.stringify gives, without its cost for the usual text that needs no escape.
      return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
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

/**
 * What the schema holding a failed keyword accepts, in words: from the precompiled table,
 * which lists every subschema except those whose only check is their `type` (most of
 * them); for those, a `type` error names the type itself. Internal.
 */
export function expectedOf(e: ErrorObject, expectedAt: Readonly<Record<string, string>>): string {
  const listed = expectedAt[parentOf(e.schemaPath)];
  if (listed !== undefined) return listed;
  if (e.keyword !== 'type') return UNDESCRIBED;
  const { type } = e.params as { type: string | readonly string[] };
  // A list of types (`["number", "null"]`) is worded as describeSchema words it.
  if (Array.isArray(type)) return type.map((t) => TYPE_WORDS[t] ?? t).join(' or ');
  return TYPE_WORDS[type as string] ?? (type as string);
}

/** The table key of a missing property's schema: `#/properties/result/properties/<name>`. Internal. */
export const requiredPath = (schemaPath: string, prop: string): string =>
  `${parentOf(schemaPath)}/properties/${encodeURIComponent(escapePointer(prop))}`;

/** What {@link describeSchema} says of a schema it cannot put in words. */
const UNDESCRIBED = 'a valid value';

/** Describes what a (sub)schema accepts, in words. */
export function describeSchema(schema: unknown): string {
  if (typeof schema !== 'object' || schema === null) return UNDESCRIBED;
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
  return UNDESCRIBED;
}

const NO_SECRETS: ReadonlySet<string> = new Set();

/** Names a secret value's type without showing it: `a string (not shown)`. */
function describeHidden(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'array' : typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (not shown)`;
}

/** ajv's errors as {@link SchemaIssue}s, worded from the precompiled table. Internal. */
export function toIssues(
  kind: string,
  input: unknown,
  errors: readonly ErrorObject[],
  expectedAt: Readonly<Record<string, string>>,
  secret: ReadonlySet<string> = NO_SECRETS,
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
      expected = expectedAt[requiredPath(e.schemaPath, prop)] ?? UNDESCRIBED;
      found = 'missing';
    } else {
      const described = expectedOf(e, expectedAt);
      expected = described === UNDESCRIBED && e.message ? e.message : described;
      const data = valueAt(input, e.instancePath);
      found = secret.has(pointer) ? describeHidden(data) : describeValue(data);
    }
    const key = `${pointer}\u0000${expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ pointer, path: pointerToPath(kind, pointer), expected, found });
  }
  return issues;
}
