// Maps zod issues on an evaluated block back to the attribute or nested block they
// concern, so a schema error reads like any other configuration error: with the file,
// the line, the resource address and, for a misspelled name, a suggestion.
import { z } from 'zod';
import { Diagnostics, redactValues, suggest, type SourceRange } from '../diagnostics.js';
import type { Body } from '../config/model.js';
import { isUnknown, isWithinPath, pathString, typeName, type AttrPath, type Value } from '../values.js';

export function checkSchema(
  schema: z.ZodType,
  value: Value,
  body: Body,
  blockRange: SourceRange,
  address: string,
  diags: Diagnostics,
  sensitivePaths: readonly string[] = [],
): void {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return;
  for (const issue of r.error.issues) {
    const path = issue.path as (string | number)[];
    if (touchesUnknown(value, path)) continue;
    // Messages quote the value: never that of a secret.
    const out = isSensitive(pathString(path), sensitivePaths) ? redacting(diags) : diags;
    const range = rangeOf(body, path) ?? blockRange;
    const at = pathString(path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const keyPath = [...path, key];
          const s = suggest(key, keysAt(schema, path));
          out.error('E_UNKNOWN_ATTRIBUTE', `Unsupported attribute "${pathString(keyPath)}"`, {
            detail: s ? `Did you mean "${s}"?` : `This resource type has no attribute "${key}".`,
            range: rangeOf(body, keyPath) ?? range,
            address,
          });
        }
        break;
      case 'invalid_type':
        if (issue.input === undefined) {
          out.error('E_MISSING_ATTRIBUTE', `Missing required attribute "${at}"`, {
            detail: `Add ${at} = <${issue.expected}>.`,
            range: blockRange,
            address,
          });
        } else {
          out.error('E_TYPE_MISMATCH', `Attribute "${at}" must be a ${issue.expected}, got ${typeName(issue.input as Value)}`, {
            range,
            address,
          });
        }
        break;
      case 'invalid_value':
        if (issue.input === undefined) {
          out.error('E_MISSING_ATTRIBUTE', `Missing required attribute "${at}"`, {
            detail: `Add ${at} = ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}.`,
            range: blockRange,
            address,
          });
          break;
        }
        out.error('E_INVALID_VALUE', `Attribute "${at}" must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`, {
          detail: `Got ${JSON.stringify(issue.input)}.`,
          range,
          address,
        });
        break;
      case 'too_small':
        out.error('E_INVALID_VALUE', `Attribute "${at}" must be at least ${String(issue.minimum)}`, {
          detail: `Got ${JSON.stringify(issue.input)}.`,
          range,
          address,
        });
        break;
      case 'too_big':
        out.error('E_INVALID_VALUE', `Attribute "${at}" must be at most ${String(issue.maximum)}`, {
          detail: `Got ${JSON.stringify(issue.input)}.`,
          range,
          address,
        });
        break;
      case 'invalid_format':
        out.error('E_INVALID_VALUE', `Attribute "${at}" has an invalid format`, {
          detail: `Got ${JSON.stringify(issue.input)}; it must match ${'pattern' in issue && issue.pattern ? String(issue.pattern) : issue.format}.`,
          range,
          address,
        });
        break;
      default:
        out.error(codeFor(issue), `Attribute "${at}" ${issue.message}`, { range, address });
    }
  }
}

/** A Diagnostics that redacts values from what is added to it. */
function redacting(diags: Diagnostics): Pick<Diagnostics, 'error'> {
  return {
    error: (code, summary, extra = {}) => diags.add(redactValues({ severity: 'error', code, summary, ...extra })),
  };
}

function isSensitive(path: string, sensitivePaths: readonly string[]): boolean {
  // Inside a secret, or holding one (a nested block whose attribute is sensitive).
  return sensitivePaths.some((s) => isWithinPath(path, s) || isWithinPath(s, path));
}

function codeFor(issue: z.core.$ZodIssue): string {
  const m = issue.message.toLowerCase();
  if (m.includes('cidr')) return 'E_INVALID_CIDR';
  if (m.includes('size')) return 'E_INVALID_SIZE';
  return 'E_INVALID_VALUE';
}

function touchesUnknown(value: Value, path: readonly (string | number)[]): boolean {
  let cur: unknown = value;
  for (const p of path) {
    if (isUnknown(cur)) return true;
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return isUnknown(cur);
}

/** The source range of an attribute path: the attribute, or the nested block it lives in. */
/** The source range of the attribute or nested block at `path` (`mount[1].target`), the closest enclosing one when there is none. */
export function rangeOf(body: Body, path: AttrPath): SourceRange | undefined {
  const [first, second] = path;
  if (typeof first !== 'string') return undefined;
  const attr = body.attributes.get(first);
  if (attr) return attr.range;
  const blocks = body.blocks.filter((b) => b.type === first);
  if (!blocks.length) return undefined;
  const block = typeof second === 'number' ? blocks[second] : blocks[0];
  if (!block) return blocks[0]!.range;
  const rest = path.slice(typeof second === 'number' ? 2 : 1);
  return (rest.length ? rangeOf(block.body, rest) : undefined) ?? block.range;
}

/** The top-level attribute names of a schema. */
export function schemaKeys(schema: z.ZodType): string[] {
  return keysAt(schema, []);
}

/** Attribute names a schema accepts at a path (for suggestions). */
function keysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let cur: z.ZodType | undefined = unwrap(schema);
  for (const p of path) {
    if (!cur) return [];
    if (cur instanceof z.ZodArray) cur = unwrap(cur.element as z.ZodType);
    if (typeof p === 'number') continue;
    cur = cur instanceof z.ZodObject ? unwrap((cur.shape as Record<string, z.ZodType>)[p]) : undefined;
  }
  if (cur instanceof z.ZodArray) cur = unwrap(cur.element as z.ZodType);
  return cur instanceof z.ZodObject ? Object.keys(cur.shape) : [];
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s;
  while (cur instanceof z.ZodOptional || cur instanceof z.ZodNullable || cur instanceof z.ZodDefault) {
    cur = cur.unwrap() as z.ZodType;
  }
  return cur;
}
