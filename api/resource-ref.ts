// Reference objects for resources and hosts: `web.ipAddress` is the expression
// `container.web.ip_address`, `web.index(0).id` is `container.web[0].id`. The typed
// getters come from the read-only attributes of `resource-types.ts`; any other
// attribute (an argument such as `subnet`) is reachable through `attr(name)`.
import type { AttributeRefMap } from './attribute-refs.js';
import type { HostSettings, HostValue, ResourceObject } from './block-types.js';
import { hclLiteral } from './hcl-literal.js';
import { expressionOf, Ref, type Input } from './ref.js';
import { READ_ONLY_ATTRIBUTES, type ResourceType } from './resource-types.js';

/** `ip_address` -> `ipAddress`. */
export type CamelCase<S extends string> = S extends `${infer H}_${infer R}` ? `${H}${Capitalize<CamelCase<R>>}` : S;

export function camelCase(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The read-only attributes of a type as camelCase reference properties. */
export type AttributeRefs<T extends ResourceType> = AttributeRefMap[T];

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
export type ResourceInstanceRef<T extends ResourceType> = Ref<ResourceObject<T>> & InstanceMethods<ResourceObject<T>> & AttributeRefs<T>;

/** A resource as declared; use `index`/`key` to reach the instances of an expanded one. */
export type ResourceRef<T extends ResourceType> = ResourceInstanceRef<T> & ExpansionMethods<ResourceInstanceRef<T>>;

export type HostInstanceRef = Ref<HostValue> & InstanceMethods<HostSettings>;
export type HostRef = HostInstanceRef & ExpansionMethods<HostInstanceRef>;

class InstanceReference extends Ref<unknown> {
  attr(name: string): Ref<unknown> {
    return new Ref(`${expressionOf(this)}.${name}`);
  }
}

class ExpandableReference extends InstanceReference {
  index(i: Input<number>): InstanceReference {
    return new (instanceClass(this))(`${expressionOf(this)}[${hclLiteral(i)}]`);
  }

  key(k: Input<string>): InstanceReference {
    return new (instanceClass(this))(`${expressionOf(this)}[${hclLiteral(k)}]`);
  }
}

type RefClass<C> = new (expression: string) => C;

/** Per resource type, the two reference classes whose prototypes carry the attribute getters. */
const classesByType = new Map<string, { instance: RefClass<InstanceReference>; expandable: RefClass<ExpandableReference> }>();
const instanceClasses = new WeakMap<object, RefClass<InstanceReference>>();

function classesFor(type: string): { instance: RefClass<InstanceReference>; expandable: RefClass<ExpandableReference> } {
  let c = classesByType.get(type);
  if (!c) {
    const readOnly: readonly string[] = (READ_ONLY_ATTRIBUTES as Record<string, readonly string[] | undefined>)[type] ?? [];
    const instance = class extends InstanceReference {};
    const expandable = class extends ExpandableReference {};
    for (const proto of [instance.prototype, expandable.prototype]) {
      for (const name of readOnly) {
        Object.defineProperty(proto, camelCase(name), {
          get(this: Ref<unknown>) {
            return new Ref(`${expressionOf(this)}.${name}`);
          },
        });
      }
    }
    instanceClasses.set(expandable.prototype, instance);
    c = { instance, expandable };
    classesByType.set(type, c);
  }
  return c;
}

function instanceClass(r: ExpandableReference): RefClass<InstanceReference> {
  return instanceClasses.get(Object.getPrototypeOf(r) as object) ?? InstanceReference;
}

export function resourceRef<T extends ResourceType>(type: T, name: string): ResourceRef<T> {
  return new (classesFor(type).expandable)(`${type}.${name}`) as unknown as ResourceRef<T>;
}

export function hostRef(name: string): HostRef {
  return new ExpandableReference(`host.${name}`) as unknown as HostRef;
}
