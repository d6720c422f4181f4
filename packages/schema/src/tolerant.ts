/**
 * Tolerant parsing: exact about what a body is for, tolerant about the rest.
 *
 * A body is first run through its precompiled validator; a body in its documented shape
 * (the usual case) costs nothing more. Otherwise each problem is sorted: one at a pointer the
 * body is for (a job's `jobid` and `status`, the list of a job list…) fails the parse; any
 * other is repaired in a copy of the body and reported as a {@link SchemaWarning}:
 *
 * - a numeric string where a number is documented is read as the number, `"true"`/`"false"`
 *   where a boolean is documented as the boolean;
 * - a single value where a list is documented is read as a list of one;
 * - anything else is taken out of its typed place, so that a typed field never holds a
 *   value of another type; the warning says what came.
 *
 * The input is never changed (only the containers on the path to a repair are copied), and
 * nothing here compiles code: the validators are generated ahead of time.
 */
import type { ErrorObject } from 'ajv';
import {
  type SafeParseResult,
  SchemaError,
  type SchemaIssue,
  type SchemaWarning,
} from './errors.js';
import {
  describeValue,
  expectedOf,
  NO_WARNINGS,
  type Parser,
  type Precompiled,
  pointerToPath,
  requiredPath,
  toIssues,
} from './validate.js';

/** What a tolerant parser needs besides its validator. */
export interface TolerantOptions<T> {
  /**
   * Whether a problem at this JSON pointer is fatal: the body is not what it claims to be
   * (`''`, the body itself, is always fatal).
   */
  readonly exact: (pointer: string) => boolean;
  /**
   * Checks run on the typed value, valid or repaired, given the warnings so far: may return
   * one more warning (an unknown status), or throw a {@link SchemaError} (a job body about
   * another job).
   */
  readonly check?: (
    data: T,
    warnings: readonly SchemaWarning[],
    context: unknown,
  ) => SchemaWarning | undefined;
}

/** A problem of one validation, at the place to repair. */
interface Problem {
  readonly pointer: string;
  /** The JSON types the schema there allows, when known (`['number', 'null']`). */
  readonly types: readonly string[];
  /** A required property is missing at `pointer`. */
  readonly missing: boolean;
  /** The ajv error behind it: what was expected is worded from it, when needed. */
  readonly error: ErrorObject;
}

/** Rounds of repair before giving up on a body (one is the rule; wraps may need a second). */
const MAX_ROUNDS = 4;
const HOLE: unique symbol = Symbol('hole');
const NO_TYPES: readonly string[] = [];

const NUMERIC = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

const typesOf = (e: ErrorObject): readonly string[] => {
  if (e.keyword !== 'type') return NO_TYPES;
  const t = (e.params as { type?: unknown }).type;
  if (Array.isArray(t)) return t as string[];
  return typeof t === 'string' ? t.split(',') : NO_TYPES;
};

function problemOf(e: ErrorObject): Problem {
  if (e.keyword === 'required') {
    const prop = (e.params as { missingProperty: string }).missingProperty;
    return {
      pointer: `${e.instancePath}/${prop.replace(/~/g, '~0').replace(/\//g, '~1')}`,
      types: NO_TYPES,
      missing: true,
      error: e,
    };
  }
  return { pointer: e.instancePath, types: typesOf(e), missing: false, error: e };
}

/**
 * The words of a `type` or union error, by its table and schema path: schema paths are the
 * generated code's own string constants, so the lookup is cheap and the set is bounded.
 */
const wordsCache = new WeakMap<object, Map<string, string>>();

/** What a problem's schema accepts, in words. */
function expectedFor(problem: Problem, expectedAt: Readonly<Record<string, string>>): string {
  const e = problem.error;
  if (e.keyword === 'required') {
    const prop = (e.params as { missingProperty: string }).missingProperty;
    return expectedAt[requiredPath(e.schemaPath, prop)] ?? 'a valid value';
  }
  let cache = wordsCache.get(expectedAt);
  if (!cache) {
    cache = new Map();
    wordsCache.set(expectedAt, cache);
  }
  // A type error is worded by its schema alone; keyed with its types for a plain `type`.
  const key = e.keyword === 'type' ? e.schemaPath : `${e.schemaPath}\u0000${e.keyword}`;
  let words = cache.get(key);
  if (words === undefined) {
    words = expectedOf(e, expectedAt);
    cache.set(key, words);
  }
  return words;
}

/** Whether pointer `deep` lies strictly under pointer `at`. */
const under = (deep: string, at: string): boolean =>
  deep.length > at.length && deep.charCodeAt(at.length) === 47 && deep.startsWith(at);

/**
 * The problems of one failed validation, each at the place to repair: the deepest places
 * with an error. A union (`anyOf`) whose value has the type of one of its branches (an
 * object, for `result: object | string | null`) has errors below it, from that branch: those
 * are repaired, so that one bad field deep in `result.service` costs that field, not the
 * whole result. A union with nothing below it failed as a whole: its value is the problem,
 * with the types its branches allow.
 *
 * Every location of a body is checked by one schema (a property's, or a list's items'), so
 * every error at or under a union's place comes from that union's branches. Only pointers
 * are compared, never schema paths, which keeps this cheap next to `JSON.parse`.
 */
function resolve(errors: readonly ErrorObject[], out: Problem[]): void {
  const at = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'required') {
      out.push(problemOf(e));
      continue;
    }
    const list = at.get(e.instancePath);
    if (list) list.push(e);
    else at.set(e.instancePath, [e]);
  }
  const pointers = [...at.keys()];
  for (const pointer of pointers) {
    if (pointers.some((other) => under(other, pointer))) continue;
    const list = at.get(pointer) as ErrorObject[];
    if (list.length === 1) {
      out.push(problemOf(list[0] as ErrorObject));
      continue;
    }
    // A union that failed as a whole: worded by the union (the last error there: ajv reports
    // a union after its branches), typed by what its branches allow.
    const types: string[] = [];
    let union: ErrorObject | undefined;
    for (const e of list) {
      if (e.keyword === 'anyOf') union = e;
      else if (e.keyword === 'type') types.push(...typesOf(e));
    }
    const error = union ?? (list[list.length - 1] as ErrorObject);
    out.push({ pointer, types, missing: false, error });
  }
}

const unescapeSegment = (key: string) => key.replace(/~1/g, '/').replace(/~0/g, '~');

function segmentsOf(pointer: string): string[] {
  if (pointer === '') return [];
  const keys = pointer.split('/');
  keys.shift();
  if (pointer.includes('~')) {
    for (let i = 0; i < keys.length; i++) keys[i] = unescapeSegment(keys[i] as string);
  }
  return keys;
}

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

/** Sets an own property, even one named `__proto__`. */
function setOwn(target: Record<string, unknown> | unknown[], key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else (target as Record<string, unknown>)[key] = value;
}

type Container = Record<string, unknown> | unknown[];

/**
 * Copy-on-write editing of one body: the containers on a repaired path are copied once;
 * the input is never changed. A field taken out of an object is deleted from the copy (this
 * path is rare: the generated repairers come first); an item taken out of a list is removed
 * at the end of the round.
 */
class Editor {
  root: unknown;
  readonly #copies = new Set<Container>();
  readonly #holey = new Set<unknown[]>();

  constructor(root: unknown) {
    this.root = root;
  }

  #own(value: Container): Container {
    if (this.#copies.has(value)) return value;
    const copy: Container = Array.isArray(value) ? value.slice() : { ...value };
    this.#copies.add(copy);
    return copy;
  }

  /**
   * Replaces the value at `pointer` by `change(value)` ({@link HOLE} takes it out) and
   * returns the value as it was, or {@link HOLE} when there is no value there.
   */
  update(pointer: string, change: (value: unknown) => unknown): unknown {
    const keys = segmentsOf(pointer);
    const last = keys.length - 1;
    if (last < 0 || !isContainer(this.root)) return HOLE;
    // Find the value first: nothing is copied for a path that leads nowhere.
    let node: unknown = this.root;
    for (const key of keys) {
      if (!isContainer(node) || !Object.hasOwn(node, key)) return HOLE;
      node = (node as Record<string, unknown>)[key];
    }
    const old = node;
    const next = change(old);
    let parent = this.#own(this.root as Container);
    this.root = parent;
    for (let i = 0; i < last; i++) {
      const key = keys[i] as string;
      const child = this.#own((parent as Record<string, Container>)[key] as Container);
      setOwn(parent, key, child);
      parent = child;
    }
    const key = keys[last] as string;
    if (next !== HOLE) setOwn(parent, key, next);
    else if (Array.isArray(parent)) {
      parent[Number(key)] = HOLE;
      this.#holey.add(parent);
    } else delete (parent as Record<string, unknown>)[key];
    return old;
  }

  /** Takes the removed items out of the lists they were in. */
  closeHoles(): void {
    for (const list of this.#holey) {
      let j = 0;
      for (let i = 0; i < list.length; i++) if (list[i] !== HOLE) list[j++] = list[i];
      list.length = j;
    }
    this.#holey.clear();
  }
}

/**
 * What a generated repairer (`scripts/repairers.ts`, beside each tolerant validator) calls
 * back into: the decisions live here, the walk over the fields in the generated code.
 */
export interface Repairs {
  /** Returned by a repairer to take a value out. */
  readonly HOLE: symbol;
  /**
   * A value at `pointer` is not one of `types`: read it as one ({@link coerce}) or take it
   * out ({@link HOLE}), with a warning; at an exact place, the body is refused instead.
   */
  fix(value: unknown, types: readonly string[], words: string, pointer: string): unknown;
  /** A field the schema requires is missing at `pointer`: the part holding it goes (or the body is refused). */
  missing(pointer: string, words: string): unknown;
  /** Sets an own property of a copy, even one named `__proto__`. */
  set(target: Record<string, unknown>, key: string, value: unknown): void;
  /** A key as a JSON pointer segment. */
  escape(key: string): string;
}

/** A repairer's helpers for one parse, and what they found. Internal (exported for tests). */
export class RepairRun implements Repairs {
  readonly HOLE = HOLE;
  readonly warnings: SchemaWarning[] = [];
  /** A problem at an exact place: the body is not what it claims to be. */
  fatal = false;
  constructor(private readonly exact: (pointer: string) => boolean) {}

  fix(value: unknown, types: readonly string[], words: string, pointer: string): unknown {
    if (pointer === '' || this.exact(pointer)) {
      this.fatal = true;
      return HOLE;
    }
    this.warnings.push({ pointer, expected: words, found: excerpt(value) });
    return coerce(value, types);
  }

  missing(pointer: string, words: string): unknown {
    const parent = pointer.slice(0, pointer.lastIndexOf('/'));
    if (parent === '' || this.exact(pointer) || this.exact(parent)) {
      this.fatal = true;
      return HOLE;
    }
    this.warnings.push({ pointer, expected: words, found: 'missing' });
    return HOLE;
  }

  set(target: Record<string, unknown>, key: string, value: unknown): void {
    setOwn(target, key, value);
  }

  escape(key: string): string {
    return key.includes('~') || key.includes('/')
      ? key.replace(/~/g, '~0').replace(/\//g, '~1')
      : key;
  }
}

/** What came, for a warning: short, one line, JSON for objects and lists. */
export function excerpt(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    if (typeof text !== 'string') return describeValue(value);
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  }
  return describeValue(value);
}

/** The repaired value for a problem, or {@link HOLE} to take it out. */
function repair(problem: Problem, value: unknown): unknown {
  return coerce(value, problem.types);
}

/**
 * A value read as one of `types`: a numeric string as a number, `"true"`/`"false"` as a
 * boolean, a single value as a list of one; {@link HOLE} when none applies.
 */
function coerce(value: unknown, types: readonly string[]): unknown {
  if (typeof value === 'string') {
    if ((types.includes('number') || types.includes('integer')) && NUMERIC.test(value)) {
      const n = Number(value);
      if (Number.isFinite(n) && (!types.includes('integer') || Number.isInteger(n))) return n;
    }
    if (types.includes('boolean')) {
      const word = value.trim().toLowerCase();
      if (word === 'true') return true;
      if (word === 'false') return false;
    }
  }
  if (
    types.includes('array') &&
    (typeof value === 'string' || (isContainer(value) && !Array.isArray(value)))
  ) {
    return [value];
  }
  return HOLE;
}

/**
 * A `parse`/`safeParse` pair that is exact at the pointers `options.exact` names and
 * tolerant elsewhere (see the module's description). `context` (for example the job id
 * asked for) is handed to `options.check`.
 */
export function tolerantParser<T, C = undefined>(
  kind: string,
  compiled: Precompiled,
  options: TolerantOptions<T>,
): Parser<T, C> {
  const { validate, expected } = compiled;
  const fatal = (issues: SchemaIssue[]): SafeParseResult<T> => ({
    success: false,
    error: new SchemaError(kind, issues),
  });
  const { check } = options;
  const finish = (
    data: T,
    warnings: readonly SchemaWarning[],
    context: unknown,
  ): SafeParseResult<T> => {
    let extra: SchemaWarning | undefined;
    if (check) {
      try {
        extra = check(data, warnings, context);
      } catch (error) {
        if (error instanceof SchemaError) return { success: false, error };
        throw error;
      }
    }
    const all = extra === undefined ? warnings : [...warnings, extra];
    return { success: true, data, warnings: all.length === 0 ? NO_WARNINGS : all };
  };

  const safeParse = (input: unknown, context?: C): SafeParseResult<T> => {
    if (validate(input)) return finish(input as T, NO_WARNINGS, context);
    const isObject = isContainer(input) && !Array.isArray(input);
    if (!isObject) return fatal(toIssues(kind, input, validate.errors ?? [], expected));

    const first = validate.errors ?? [];
    const warnings: SchemaWarning[] = [];
    let body: unknown = input;
    if (compiled.repair) {
      // One pass repairs the body; the validator then confirms it.
      const run = new RepairRun(options.exact);
      const repaired = compiled.repair(input, '', run);
      if (run.fatal) return fatal(exactIssues(kind, input, first, expected, options.exact));
      warnings.push(...run.warnings);
      body = repaired;
      if (validate(body)) return finish(body as T, warnings, context);
    }
    // Anything left (a repairer that fell short, or none): repaired from the errors.
    const editor = new Editor(body);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const problems: Problem[] = [];
      resolve(validate.errors ?? [], problems);
      const exact = problems.filter((p) => p.pointer === '' || options.exact(p.pointer));
      if (exact.length > 0) {
        return fatal(
          toIssues(
            kind,
            editor.root,
            exact.map((p) => p.error),
            expected,
          ),
        );
      }
      for (const problem of problems) {
        if (problem.missing) {
          // A field the schema requires inside a part that is not exact: that part goes.
          const parent = problem.pointer.slice(0, problem.pointer.lastIndexOf('/'));
          if (parent === '' || options.exact(parent)) {
            return fatal(toIssues(kind, editor.root, [problem.error], expected));
          }
          editor.update(parent, () => HOLE);
          warnings.push({
            pointer: problem.pointer,
            expected: expectedFor(problem, expected),
            found: 'missing',
          });
          continue;
        }
        const value = editor.update(problem.pointer, (old) => repair(problem, old));
        if (value === HOLE) continue;
        warnings.push({
          pointer: problem.pointer,
          expected: expectedFor(problem, expected),
          found: excerpt(value),
        });
      }
      editor.closeHoles();
      if (validate(editor.root)) return finish(editor.root as T, warnings, context);
    }
    return fatal(toIssues(kind, editor.root, validate.errors ?? [], expected));
  };

  const parse = (input: unknown, context?: C): T => {
    // The usual body, in its documented shape: no result object, and warnings are not kept.
    if (validate(input)) {
      check?.(input as T, NO_WARNINGS, context);
      return input as T;
    }
    const result = safeParse(input, context);
    if (!result.success) throw result.error;
    return result.data;
  };
  return { parse, safeParse };
}

/** The issues of a body refused for a problem at an exact place, from its validator's errors. */
function exactIssues(
  kind: string,
  input: unknown,
  errors: readonly ErrorObject[],
  expected: Readonly<Record<string, string>>,
  exact: (pointer: string) => boolean,
): SchemaIssue[] {
  const problems: Problem[] = [];
  resolve(errors, problems);
  const chosen = problems.filter((p) => p.pointer === '' || exact(p.pointer)).map((p) => p.error);
  return toIssues(kind, input, chosen.length > 0 ? chosen : errors, expected);
}

/** An issue at `pointer` of a body of `kind`, for checks. */
export function issueAt(
  kind: string,
  pointer: string,
  expected: string,
  value: unknown,
): SchemaIssue {
  return { pointer, path: pointerToPath(kind, pointer), expected, found: describeValue(value) };
}
