/**
 * Reading the configuration file: JSON or YAML, validated against {@link ConfigFileSchema},
 * each fault named by its key and never by a secret's value.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { describeSchema, describeValue, validatorFor } from '@jobwatch/schema';
import { parse as parseYaml } from 'yaml';
import { configError } from '../errors.js';
import { type ConfigFile, ConfigFileSchema } from './schema.js';

function keyPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else out += out ? `.${key}` : key;
  }
  return out || '(root)';
}

/** Keys whose values are secrets: an error names them and what was expected, never the value. */
const SECRET_POINTER =
  /^\/(?:apiKeys(?:\/\d+)?|deployments\/\d+\/token|webhooks\/\d+\/secret|store\/url)$/;

/** Names a value's type without showing it: `a number (not shown)`. */
function hidden(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'array' : typeof value;
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} (not shown)`;
}

/**
 * Validates a parsed configuration object.
 * @throws {@link DaemonError} (`CONFIG`) naming the first bad key: `deployments[0].url: expected a string, got 42`.
 * The value of a secret (`apiKeys`, `token`, `secret`) is never shown, only its type.
 */
export function validateConfigFile(value: unknown, source = 'config'): ConfigFile {
  const validate = validatorFor(ConfigFileSchema);
  if (validate(value)) return value as ConfigFile;
  const errors = validate.errors ?? [];
  const e =
    errors.find((x) => x.keyword === 'additionalProperties') ??
    errors.find((x) => x.keyword === 'required') ??
    errors[0];
  if (!e) throw configError(`${source}: invalid`);
  let message: string;
  if (e.keyword === 'additionalProperties') {
    const key = (e.params as { additionalProperty: string }).additionalProperty;
    message = `${keyPath(`${e.instancePath}/${key}`)}: unknown key`;
  } else if (e.keyword === 'required') {
    const key = (e.params as { missingProperty: string }).missingProperty;
    const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)
      ?.properties;
    message = `${keyPath(`${e.instancePath}/${key}`)}: expected ${describeSchema(props?.[key])}, got nothing`;
  } else {
    const expected = describeSchema(e.parentSchema);
    const secret = SECRET_POINTER.test(e.instancePath);
    const limit = (e.params as { limit?: unknown }).limit;
    const detail =
      e.keyword === 'minLength'
        ? `expected at least ${String(limit)} characters`
        : e.keyword === 'pattern' && secret
          ? 'expected another form'
          : expected === 'a valid value' ||
              ['minimum', 'maximum', 'exclusiveMinimum', 'minItems', 'pattern'].includes(e.keyword)
            ? (e.message ?? expected)
            : `expected ${expected}`;
    const got = secret
      ? e.keyword === 'minLength'
        ? 'got fewer (not shown)'
        : `got ${hidden(e.data)}`
      : `got ${describeValue(e.data)}`;
    message = `${keyPath(e.instancePath)}: ${detail}, ${got}`;
  }
  return throwConfig(`${source}: ${message}`);
}

function throwConfig(message: string): never {
  throw configError(message);
}

/**
 * Reads and validates a configuration file: `.yaml`/`.yml` as YAML, anything else as JSON.
 * @throws {@link DaemonError} (`CONFIG`) when the file cannot be read or parsed, or a key is bad.
 */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(
      `cannot read config file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  let value: unknown;
  const yaml = ['.yaml', '.yml'].includes(extname(path).toLowerCase());
  try {
    value = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    // The parsers quote the text around the fault, which may be a secret: say only where.
    throw configError(
      `config file ${path} is not valid ${yaml ? 'YAML' : 'JSON'}${whereInText(text, error)}`,
    );
  }
  return validateConfigFile(value ?? {}, path);
}

/** ` at line L, column C` of a parse error, from its position; empty when unknown. */
function whereInText(text: string, error: unknown): string {
  const linePos = (error as { linePos?: Array<{ line: number; col: number }> }).linePos?.[0];
  if (linePos) return ` at line ${linePos.line}, column ${linePos.col}`;
  const position = /\bposition (\d+)/.exec((error as Error).message ?? '')?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
