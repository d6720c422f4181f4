/**
 * The repairers of the tolerant parsers: for each tolerant schema, plain JavaScript generated
 * at development time, like ajv's standalone validators beside it, that walks a body once and
 * repairs what is not in its documented shape (see `src/tolerant.ts` for what a repair is).
 * A generic walker interpreting the schema at run time costs ten times what this code does:
 * it reads every field by name, as the validator does.
 *
 * The generator refuses any schema keyword it cannot repair exactly, so that a repaired body
 * always passes its validator (a test checks it on random bodies).
 */

/** What a schema allows at one place, with its unions merged (one branch per JSON type). */
interface Shape {
  /** The JSON types allowed; none: any value. */
  readonly types: readonly string[];
  /** The same, in words. */
  readonly words: string;
  readonly properties?: Readonly<Record<string, Shape>>;
  readonly required?: readonly string[];
  /** The shape of an object's other fields, when they have one. */
  readonly additional?: Shape;
  readonly items?: Shape;
  readonly pattern?: string;
}

import { describeSchema } from '../src/validate.js';

/** Keywords a repairer can honour; any other in a tolerant schema stops the generator. */
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'anyOf',
  'pattern',
  'description',
]);

/** The merged shape of a (JSON) schema. */
export function shapeOf(schema: unknown, where = '#'): Shape {
  const s = schema as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!KEYWORDS.has(key)) throw new Error(`${where}: a repairer cannot honour "${key}"`);
  }
  const words = describeSchema(s);
  if (Array.isArray(s.anyOf)) {
    if (s.type !== undefined) throw new Error(`${where}: anyOf beside type`);
    const types: string[] = [];
    let merged: Omit<Shape, 'types' | 'words'> = {};
    for (const [i, branch] of (s.anyOf as unknown[]).entries()) {
      const { types: branchTypes, words: _words, ...rest } = shapeOf(branch, `${where}/anyOf/${i}`);
      if (branchTypes.length === 0) throw new Error(`${where}/anyOf/${i}: a branch of any type`);
      for (const t of branchTypes) {
        if (types.includes(t)) throw new Error(`${where}: two branches of type ${t}`);
        types.push(t);
      }
      merged = { ...merged, ...rest };
    }
    return { types, words, ...merged };
  }
  const types =
    s.type === undefined ? [] : Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
  const props = s.properties as Record<string, unknown> | undefined;
  if (s.additionalProperties === false) {
    throw new Error(`${where}: a tolerant schema keeps unknown fields`);
  }
  return {
    types,
    words,
    ...(props
      ? {
          properties: Object.fromEntries(
            Object.entries(props).map(([k, v]) => [k, shapeOf(v, `${where}/properties/${k}`)]),
          ),
        }
      : {}),
    ...(Array.isArray(s.required) && s.required.length > 0
      ? { required: s.required as string[] }
      : {}),
    ...(typeof s.additionalProperties === 'object' && s.additionalProperties !== null
      ? { additional: shapeOf(s.additionalProperties, `${where}/additionalProperties`) }
      : {}),
    ...(s.items !== undefined ? { items: shapeOf(s.items, `${where}/items`) } : {}),
    ...(typeof s.pattern === 'string' ? { pattern: s.pattern } : {}),
  };
}

/** The check of one JSON type on `v`, as ajv writes it. */
function typeCheck(type: string): string {
  switch (type) {
    case 'string':
      return 'typeof v === "string"';
    case 'number':
      return '(typeof v === "number" && isFinite(v))';
    case 'integer':
      return '(typeof v === "number" && !(v % 1) && !isNaN(v) && isFinite(v))';
    case 'boolean':
      return 'typeof v === "boolean"';
    case 'null':
      return 'v === null';
    case 'object':
      return '(typeof v === "object" && v !== null && !Array.isArray(v))';
    case 'array':
      return 'Array.isArray(v)';
    default:
      throw new Error(`unknown JSON type ${type}`);
  }
}

const escapeSegment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A generated repairer: its code (functions and constants) and the name of its entry. */
export interface Repairer {
  readonly code: string;
  readonly entry: string;
}

/**
 * The repairer of a schema. Each place with something to check is one function
 * `(v, at, w) => value`: `v` the value there (never `undefined`), `at` its JSON pointer, `w`
 * the runtime's helpers (`Repairs` in tolerant.ts); it returns `v` itself when nothing
 * changed, a repaired copy, or `w.HOLE` to take the value out.
 */
export function repairCode(schema: unknown): Repairer {
  const lines: string[] = [];
  const constants = new Map<string, string>();
  const constant = (prefix: string, value: string): string => {
    let name = constants.get(value);
    if (!name) {
      name = `${prefix}${constants.size}`;
      constants.set(value, name);
      lines.push(`const ${name} = ${value};`);
    }
    return name;
  };
  let count = 0;

  /** Whether a shape checks its value alone (nothing under it to walk). */
  const scalar = (shape: Shape) =>
    !shape.properties && !shape.items && !shape.additional && !shape.required;

  /** The condition under which `x` breaks a scalar shape, or `undefined` when nothing can. */
  const failsOf = (shape: Shape, x: string): string | undefined => {
    const fails: string[] = [];
    if (shape.types.length > 0) {
      fails.push(`!(${shape.types.map((t) => typeCheck(t).replace(/\bv\b/g, x)).join(' || ')})`);
    }
    if (shape.pattern) {
      const re = constant('repairPattern', `new RegExp(${JSON.stringify(shape.pattern)}, "u")`);
      fails.push(`(typeof ${x} === "string" && !${re}.test(${x}))`);
    }
    return fails.length > 0 ? fails.join(' || ') : undefined;
  };

  /** `w.fix` for a value `x` of a shape, at the pointer expression `at`. */
  const fixOf = (shape: Shape, x: string, at: string) => {
    const types = constant('repairTypes', JSON.stringify(shape.types));
    const words = constant('repairWords', JSON.stringify(shape.words));
    return `w.fix(${x}, ${types}, ${words}, ${at})`;
  };

  /**
   * The code that repairs `x` (never `undefined`) into `y`, at the pointer expression `at`
   * (built only when needed: for a scalar, only when it is broken). Leaves `y === x` when
   * nothing changed.
   */
  const child = (shape: Shape, x: string, at: string): string | undefined => {
    if (scalar(shape)) {
      const fails = failsOf(shape, x);
      return fails === undefined
        ? undefined
        : `const y = ${fails} ? ${fixOf(shape, x, at)} : ${x};`;
    }
    return `const y = ${emit(shape)}(${x}, ${at}, w);`;
  };

  const emit = (shape: Shape): string => {
    const name = `repair${count++}`;
    const body: string[] = [];
    const fails = failsOf(shape, 'v');
    if (fails !== undefined) {
      body.push(`if (${fails}) {`);
      body.push(`  v = ${fixOf(shape, 'v', 'at')};`);
      body.push('  if (!Array.isArray(v)) return v;');
      body.push('}');
    }
    const props = shape.properties;
    if (props || shape.additional || shape.required) {
      body.push('if (typeof v === "object" && v !== null && !Array.isArray(v)) {');
      for (const key of shape.required ?? []) {
        const words = constant('repairWords', JSON.stringify(props?.[key]?.words ?? 'a value'));
        body.push(
          `  if (v[${JSON.stringify(key)}] === undefined) return w.missing(at + ${JSON.stringify(`/${escapeSegment(key)}`)}, ${words});`,
        );
      }
      body.push('  let c;');
      for (const [key, sub] of Object.entries(props ?? {})) {
        const k = JSON.stringify(key);
        const code = child(sub, 'x', `at + ${JSON.stringify(`/${escapeSegment(key)}`)}`);
        if (code === undefined) continue;
        body.push(`  { const x = v[${k}]; if (x !== undefined) {`);
        body.push(`    ${code}`);
        // A named store (one shape per site, so fast), save for `__proto__`.
        const store =
          key === '__proto__'
            ? `w.set(c, ${k}, y === w.HOLE ? undefined : y)`
            : `c[${k}] = y === w.HOLE ? undefined : y`;
        body.push(`    if (y !== x) { if (c === undefined) c = { ...v }; ${store}; }`);
        body.push('  } }');
      }
      const code = shape.additional
        ? child(shape.additional, 'x', 'at + "/" + w.escape(k)')
        : undefined;
      if (code !== undefined) {
        const names = Object.keys(props ?? {});
        const known =
          names.length > 0
            ? constant('repairKnown', `new Set(${JSON.stringify(names)})`)
            : undefined;
        body.push('  const keys = Object.keys(v);');
        body.push('  for (let n = 0; n < keys.length; n++) {');
        body.push('    const k = keys[n];');
        if (known) body.push(`    if (${known}.has(k)) continue;`);
        body.push('    const x = v[k];');
        body.push('    if (x === undefined) continue;');
        body.push(`    ${code}`);
        // A validator checks every own key of a map, `undefined` values too: delete it.
        body.push(
          '    if (y !== x) { if (c === undefined) c = { ...v }; if (y === w.HOLE) delete c[k]; else w.set(c, k, y); }',
        );
        body.push('  }');
      }
      body.push('  return c === undefined ? v : c;');
      body.push('}');
    }
    const itemCode = shape.items ? child(shape.items, 'x', 'at + "/" + i') : undefined;
    if (itemCode !== undefined) {
      body.push('if (Array.isArray(v)) {');
      body.push('  let c;');
      body.push('  for (let i = 0; i < v.length; i++) {');
      body.push('    const x = v[i];');
      body.push(`    ${itemCode}`);
      body.push('    if (c === undefined && y !== x) c = v.slice(0, i);');
      body.push('    if (c !== undefined && y !== w.HOLE) c.push(y);');
      body.push('  }');
      body.push('  return c === undefined ? v : c;');
      body.push('}');
    }
    body.push('return v;');
    lines.push(`function ${name}(v, at, w) {\n  ${body.join('\n  ')}\n}`);
    return name;
  };

  const entry = emit(shapeOf(JSON.parse(JSON.stringify(schema)) as unknown));
  return { code: lines.join('\n'), entry };
}
