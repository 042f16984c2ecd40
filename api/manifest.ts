// The manifest builder. Each method records one HCL block as data (arguments are
// converted when the method is called, so later changes to the objects passed in do
// not leak in) and returns a reference to what it declared.
import type {
  HostArgs,
  LifecycleArgs,
  MovedArgs,
  OutputArgs,
  ResourceMetaArgs,
  SettingsArgs,
  ValidationArgs,
  VariableArgs,
  VariableTypeName,
  VariableValue,
} from './block-types.js';
import { describeValue, hclLiteral, isPlainObject } from './hcl-literal.js';
import type { ArgsInput, Resolved } from './inputs.js';
import type { DocumentBlock, DocumentProblem, ManifestDocument } from './manifest-document.js';
import { toRawValue, refToRaw, type RawValue, type ValueProblem } from './raw-value.js';
import { isRef, Ref } from './ref.js';
import { hostRef, resourceRef, type HostRef, type ResourceRef } from './resource-ref.js';
import { NESTED_BLOCKS, type ResourceType } from './resource-types.js';

/** The arguments of `m.resource(type, ...)`: the type's arguments plus the meta-arguments. */
export type ResourceArgs<T extends ResourceType> = ArgsInput<T> & ResourceMetaArgs<T>;

interface ManifestState {
  readonly blocks: DocumentBlock[];
  readonly problems: DocumentProblem[];
}

const states = new WeakMap<Manifest, ManifestState>();

/** Arguments of a block under construction. */
interface Body {
  attributes: [string, RawValue][];
  blocks: DocumentBlock[];
}

/**
 * A configuration written in TypeScript. A `*.infra.ts` file default-exports one:
 *
 * ```ts
 * import { Manifest } from 'tsinfra';
 * const m = new Manifest();
 * const local = m.host('local', { transport: 'local' });
 * const front = m.resource('network', 'front', { host: local, driver: 'bridge', subnet: '10.1.0.0/24' });
 * export default m;
 * ```
 */
export class Manifest {
  constructor() {
    states.set(this, { blocks: [], problems: [] });
  }

  /** Declares `variable "NAME"`; returns `var.NAME`. */
  variable<S extends VariableTypeName = 'any'>(name: string, args: VariableArgs<S> = {}): Ref<VariableValue<S>> {
    const self = new Ref<VariableValue<S>>(`var.${name}`);
    const r = this.#recorder(`var.${name}`);
    const body = emptyBody();
    for (const [k, v] of Object.entries(args)) {
      if (v === undefined) continue;
      if (k === 'type') body.attributes.push(['type', `\${${String(v)}}`]);
      else if (k === 'validation') {
        const list = (Array.isArray(v) ? v : [v]) as ValidationArgs<VariableValue<S>>[];
        list.forEach((val, i) => body.blocks.push(validationBlock(val, self, `validation[${i}]`, r.problems)));
      } else body.attributes.push([k, toRawValue(v, k, r.problems)]);
    }
    r.record('variable', [name], body);
    return self;
  }

  /** Declares a `locals` block; returns a `local.NAME` reference for each value. */
  locals<L extends Record<string, unknown>>(values: L): { readonly [K in keyof L]: Ref<Resolved<L[K]>> } {
    const r = this.#recorder('locals');
    const body = emptyBody();
    const refs: Record<string, Ref<unknown>> = {};
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined || typeof v === 'function') continue;
      body.attributes.push([k, toRawValue(v, k, r.problems)]);
      refs[k] = new Ref(`local.${k}`);
    }
    r.record('locals', [], body);
    return refs as { readonly [K in keyof L]: Ref<Resolved<L[K]>> };
  }

  /** Declares one local value; returns `local.NAME`. */
  local<V>(name: string, value: V): Ref<Resolved<V>> {
    return this.locals({ [name]: value } as Record<string, V>)[name]!;
  }

  /** Declares `host "NAME"`; returns `host.NAME`. */
  host(name: string, args: HostArgs): HostRef {
    const r = this.#recorder(`host.${name}`);
    r.record('host', [name], expansionBody(args, new Set(), r.problems));
    return hostRef(name);
  }

  /** Declares `resource "TYPE" "NAME"`; returns `TYPE.NAME` with its attributes as typed references. */
  resource<T extends ResourceType>(type: T, name: string, args: ResourceArgs<T>): ResourceRef<T> {
    const r = this.#recorder(`${type}.${name}`);
    const nested = new Set<string>((NESTED_BLOCKS as Record<string, readonly string[] | undefined>)[type] ?? []);
    const { lifecycle, ...rest } = args as Record<string, unknown>;
    const body = expansionBody(rest, nested, r.problems);
    if (lifecycle !== undefined) body.blocks.push(lifecycleBlock(lifecycle as LifecycleArgs<T>, r.problems));
    r.record('resource', [type, name], body);
    return resourceRef(type, name);
  }

  /** A resource declared elsewhere in the configuration (an HCL file, another manifest). */
  ref<T extends ResourceType>(type: T, name: string): ResourceRef<T> {
    return resourceRef(type, name);
  }

  /** Declares `output "NAME"`. */
  output(name: string, args: OutputArgs): void {
    const r = this.#recorder(`output.${name}`);
    r.record('output', [name], attributesBody(args, r.problems));
  }

  /** Declares a `moved` block: the resource at `from` is now at `to`, without destroying it. */
  moved(args: MovedArgs): void {
    const r = this.#recorder('moved');
    const body = emptyBody();
    for (const k of ['from', 'to'] as const) {
      const v: unknown = args[k];
      if (isRef(v)) body.attributes.push([k, refToRaw(v)]);
      else if (typeof v === 'string') body.attributes.push([k, `\${${v}}`]);
      else r.problems.push({ path: k, message: `moved.${k} must be an address string or a resource reference` });
    }
    r.record('moved', [], body);
  }

  /** Declares the `tsinfra` settings block. */
  settings(args: SettingsArgs): void {
    const r = this.#recorder('tsinfra');
    const { backend, ...rest } = args;
    const body = attributesBody(rest, r.problems);
    if (backend !== undefined) {
      for (const [type, config] of Object.entries(backend)) {
        body.blocks.push({ type: 'backend', labels: [type], ...attributesBody(config as object, r.problems, `backend.${type}`) });
      }
    }
    r.record('tsinfra', [], body);
  }

  /** Collects the problems of one declaration and records its block with the caller's stack. */
  #recorder(address: string): { problems: ValueProblem[]; record(type: string, labels: string[], body: Body): void } {
    const state = states.get(this)!;
    const site = callSite();
    const problems: ValueProblem[] = [];
    return {
      problems,
      record(type, labels, body) {
        state.blocks.push({ type, labels, attributes: body.attributes, blocks: body.blocks, site });
        for (const p of problems) state.problems.push({ address, path: p.path, message: p.message, site });
      },
    };
  }
}

/**
 * Where the user's call to a Manifest method is: the first stack frame outside this
 * module's file, as `file:line:column` (the loader maps it through the source map).
 * Formatting only that frame keeps large manifests cheap.
 */
function callSite(): string {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = firstForeignFrame;
  try {
    const stack: unknown = new Error().stack;
    return typeof stack === 'string' ? stack : '';
  } finally {
    Error.prepareStackTrace = previous;
  }
}

function firstForeignFrame(_error: Error, frames: NodeJS.CallSite[]): string {
  const own = frames[0]?.getFileName();
  const caller = frames.find((f) => f.getFileName() !== own);
  return caller ? `${caller.getFileName() ?? ''}:${caller.getLineNumber() ?? 0}:${caller.getColumnNumber() ?? 0}` : '';
}

export function isManifest(v: unknown): v is Manifest {
  return v instanceof Manifest;
}

/** The manifest's declarations as data. */
export function documentOf(m: Manifest): ManifestDocument {
  const s = states.get(m)!;
  return { blocks: s.blocks, problems: s.problems };
}

function emptyBody(): Body {
  return { attributes: [], blocks: [] };
}

/** Every property an attribute (skipping undefined and functions). */
function attributesBody(args: object, problems: ValueProblem[], prefix = ''): Body {
  const body = emptyBody();
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || typeof v === 'function') continue;
    body.attributes.push([k, toRawValue(v, prefix ? `${prefix}.${k}` : k, problems)]);
  }
  return body;
}

/** A host or resource body: arguments, nested blocks, and `for_each` given as an array. */
function expansionBody(args: object, nested: ReadonlySet<string>, problems: ValueProblem[]): Body {
  const body = emptyBody();
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || typeof v === 'function') continue;
    if (nested.has(k)) {
      const items: unknown[] = Array.isArray(v) ? v : [v];
      items.forEach((item, i) => {
        const path = Array.isArray(v) ? `${k}[${i}]` : k;
        if (isPlainObject(item)) body.blocks.push({ type: k, labels: [], ...attributesBody(item, problems, path) });
        else problems.push({ path, message: `"${k}" is a nested block: give an object (or an array of objects), not a ${describeValue(item)}` });
      });
    } else if (k === 'for_each' && Array.isArray(v)) {
      body.attributes.push([k, forEachSet(v, problems)]);
    } else {
      body.attributes.push([k, toRawValue(v, k, problems)]);
    }
  }
  return body;
}

/** An array given to for_each is a set of keys, as `toset([...])` in HCL. */
function forEachSet(items: readonly unknown[], problems: ValueProblem[]): RawValue {
  try {
    return `\${toset(${hclLiteral(items)})}`;
  } catch (e) {
    problems.push({ path: 'for_each', message: (e as Error).message });
    return null;
  }
}

function lifecycleBlock<T extends ResourceType>(lc: LifecycleArgs<T>, problems: ValueProblem[]): DocumentBlock {
  const body = emptyBody();
  for (const [k, v] of Object.entries(lc)) {
    if (v === undefined) continue;
    if (k === 'ignore_changes') {
      // hcl2json writes the bare attribute names of `ignore_changes = [env]` as `${env}`.
      const paths = v as readonly string[] | 'all';
      body.attributes.push([k, paths === 'all' ? '${all}' : paths.map((p) => `\${${p}}`)]);
    } else body.attributes.push([k, toRawValue(v, `lifecycle.${k}`, problems)]);
  }
  return { type: 'lifecycle', labels: [], ...body };
}

function validationBlock<V>(v: ValidationArgs<V>, self: Ref<V>, path: string, problems: ValueProblem[]): DocumentBlock {
  const condition = typeof v.condition === 'function' ? v.condition(self) : v.condition;
  return {
    type: 'validation',
    labels: [],
    attributes: [
      ['condition', toRawValue(condition, `${path}.condition`, problems)],
      ['error_message', toRawValue(v.error_message, `${path}.error_message`, problems)],
    ],
    blocks: [],
  };
}
