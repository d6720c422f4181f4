/**
 * Small builders shared by the body schemas: a value that may also be `null`, an optional
 * field that may be `null`. Marked pure at every call, like every schema, so that bundles
 * that only parse drop them.
 */
import Type, { type Static, type TSchema, type TUnsafe } from 'typebox';

/** A schema that checks one scalar type and nothing else (`{type: "number"}`). */
function scalarType(schema: Record<string, unknown>): string | undefined {
  const { type } = schema;
  const only = Object.keys(schema).every((k) => k === 'type' || k === 'description');
  return only && typeof type === 'string' && type !== 'object' && type !== 'array'
    ? type
    : undefined;
}

/**
 * `schema`, or `null`: servers send `null` for a value they do not have (`"username": null`
 * for anonymous work), and jobwatch takes it as sent, without a warning. A schema with one
 * `type` gets `null` added to it (`["number", "null"]`, `["object", "null"]` with its
 * properties: one check, worded "a number or null"), a union of scalar types becomes one
 * `type` list; anything else becomes `anyOf`.
 */
export function orNull<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const s = schema as unknown as Record<string, unknown>;
  if (typeof s.type === 'string') {
    return Type.Unsafe<Static<T> | null>({ ...s, type: [s.type, 'null'] });
  }
  const union = Array.isArray(s.anyOf)
    ? (s.anyOf as Record<string, unknown>[]).map(scalarType)
    : undefined;
  if (
    union?.every((t) => t !== undefined) &&
    Object.keys(s).every((k) => k === 'anyOf' || k === 'description')
  ) {
    const { anyOf: _anyOf, ...rest } = s;
    return Type.Unsafe<Static<T> | null>({ ...rest, type: [...union, 'null'] });
  }
  return Type.Unsafe<Static<T> | null>({ anyOf: [schema, Type.Null()] });
}

/**
 * An object schema that also allows other types (`["string", "object"]`): its properties
 * apply when the value is an object. One check, where `anyOf` would try each branch in turn.
 */
export function objectOr<T extends TSchema, O>(
  schema: T,
  others: readonly ('string' | 'null')[],
  options: { readonly description?: string } = {},
): TUnsafe<Static<T> | O> {
  return Type.Unsafe<Static<T> | O>({ ...schema, type: ['object', ...others], ...options });
}

/** An optional field that may be `null`: "missing and null are allowed". */
export function maybe<T extends TSchema>(schema: T) {
  return Type.Optional(orNull(schema));
}
