/**
 * ajv's compiler, for schemas of your own. jobwatch's bodies never come here: they are
 * parsed by validators generated ahead of time (`validate.ts`), so this module, and ajv with
 * it, stays out of every bundle that does not call {@link validatorFor}.
 */
import type { ValidateFunction } from 'ajv';
import { Ajv } from 'ajv';
import type { TSchema } from 'typebox';

let ajv: Ajv | undefined;
const compiled = new WeakMap<TSchema, ValidateFunction>();
let compilations = 0;

/**
 * How many schemas {@link validatorFor} has compiled so far in this module instance.
 * Internal (not re-exported by the package): tests use it to prove that importing and
 * parsing compile nothing, and that each validator compiles once.
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
 * schema object (the same function comes back on every later call). Its errors are
 * `verbose` (they carry `parentSchema` and `data`), for {@link describeSchema} and
 * {@link describeValue}.
 *
 * Use it to validate a schema of your own that embeds jobwatch's schemas; for jobwatch's
 * bodies, use the `parse*` functions, which are precompiled and turn errors into a
 * {@link SchemaError}.
 *
 * Gotcha: this is the one function of the package that compiles code at runtime (with
 * `new Function`), so it needs `'unsafe-eval'` on a page with a Content Security Policy, and
 * it brings ajv's compiler into a bundle. Nothing else in the package does either.
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
