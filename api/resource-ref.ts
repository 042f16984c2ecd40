// Reference objects for resources and hosts: `web.ipAddress` is the expression
// `container.web.ip_address`, `web.index(0).id` is `container.web[0].id`. The typed
// getters come from the read-only attributes of `resource-types.ts`; any other
// attribute (an argument such as `subnet`) is reachable through `attr(name)`.
import type { HostSettings, ResourceObject } from './block-types.js';
import { hclLiteral } from './hcl-literal.js';
import { expressionOf, Ref, type Input } from './ref.js';
import { READ_ONLY_ATTRIBUTES, type ResourceAttributes, type ResourceType } from './resource-types.js';

/** `ip_address` -> `ipAddress`. */
export type CamelCase<S extends string> = S extends `${infer H}_${infer R}` ? `${H}${Capitalize<CamelCase<R>>}` : S;

export function camelCase(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The read-only attributes of a type as camelCase reference properties. */
export type AttributeRefs<T extends ResourceType> = {
  readonly [K in keyof ResourceAttributes[T] & string as CamelCase<K>]: Ref<ResourceAttributes[T][K]>;
};

export interface InstanceMethods<O> {
  /** A reference to any attribute, by its HCL name: `network.attr('subnet')`. */
  attr<K extends keyof O & string>(name: K): Ref<O[K]>;
}

export interface ExpansionMethods<I> {
  /** The instance `NAME[i]` of a resource or host with `count`. */
  index(i: Input<number>): I;
  /** The instance `NAME["k"]` of a resource or host with `for_each`. */
  key(k: Input<string>): I;
}

/** One resource instance: `container.web`, `container.web[0]`. */
export type ResourceInstanceRef<T extends ResourceType> = Ref<ResourceObject<T>> &
  InstanceMethods<ResourceObject<T>> &
  AttributeRefs<T>;

/** A resource as declared; use `index`/`key` to reach the instances of an expanded one. */
export type ResourceRef<T extends ResourceType> = ResourceInstanceRef<T> & ExpansionMethods<ResourceInstanceRef<T>>;

export type HostInstanceRef = Ref<HostSettings> & InstanceMethods<HostSettings>;
export type HostRef = HostInstanceRef & ExpansionMethods<HostInstanceRef>;

class InstanceReference extends Ref<unknown> {
  constructor(expression: string, readOnly: readonly string[]) {
    super(expression);
    for (const name of readOnly) {
      Object.defineProperty(this, camelCase(name), {
        get: () => new Ref(`${expression}.${name}`),
        enumerable: false,
      });
    }
  }

  attr(name: string): Ref<unknown> {
    return new Ref(`${expressionOf(this)}.${name}`);
  }
}

class ExpandableReference extends InstanceReference {
  constructor(
    expression: string,
    private readonly readOnly: readonly string[],
  ) {
    super(expression, readOnly);
  }

  index(i: Input<number>): InstanceReference {
    return new InstanceReference(`${expressionOf(this)}[${hclLiteral(i)}]`, this.readOnly);
  }

  key(k: Input<string>): InstanceReference {
    return new InstanceReference(`${expressionOf(this)}[${hclLiteral(k)}]`, this.readOnly);
  }
}

export function resourceRef<T extends ResourceType>(type: T, name: string): ResourceRef<T> {
  const readOnly: readonly string[] = (READ_ONLY_ATTRIBUTES as Record<string, readonly string[] | undefined>)[type] ?? [];
  return new ExpandableReference(`${type}.${name}`, readOnly) as unknown as ResourceRef<T>;
}

export function hostRef(name: string): HostRef {
  return new ExpandableReference(`host.${name}`, []) as unknown as HostRef;
}
