// `ref`: references to things the manifest did not declare itself (blocks of HCL
// files or of other manifests in the directory) and to the expansion symbols
// `count.index`, `each.key`, `each.value`.
import { hostRef, resourceRef, type HostRef, type ResourceRef } from './resource-ref.js';
import { Ref } from './ref.js';
import { READ_ONLY_ATTRIBUTES, type ResourceType } from './resource-types.js';

/** `ref.network('front')`, `ref.container('web')`, ...: one shortcut per resource type. */
export type ResourceShortcuts = { readonly [T in ResourceType]: (name: string) => ResourceRef<T> };

export interface References extends ResourceShortcuts {
  /** `TYPE.NAME`, declared anywhere in the configuration. */
  resource<T extends ResourceType>(type: T, name: string): ResourceRef<T>;
  /** `host.NAME`, declared anywhere in the configuration. */
  host(name: string): HostRef;
  /** `var.NAME`. */
  variable<T = any>(name: string): Ref<T>; // eslint-disable-line @typescript-eslint/no-explicit-any -- type known only to the declaring file
  /** `local.NAME`. */
  local<T = any>(name: string): Ref<T>; // eslint-disable-line @typescript-eslint/no-explicit-any -- type known only to the declaring file
  /** `count.index`: the instance number inside a resource or host with `count`. */
  readonly countIndex: Ref<number>;
  /** `each.key`: the instance key inside a resource or host with `for_each`. */
  readonly eachKey: Ref<string>;
  /** `each.value`: the map value (or the key, for a set) inside a resource or host with `for_each`. */
  readonly eachValue: Ref<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- element type of a for_each value is not tracked
}

const shortcuts = Object.fromEntries(
  Object.keys(READ_ONLY_ATTRIBUTES).map((t) => [t, (name: string) => resourceRef(t as ResourceType, name)]),
) as unknown as ResourceShortcuts;

export const ref: References = {
  ...shortcuts,
  resource: resourceRef,
  host: hostRef,
  variable: (name) => new Ref(`var.${name}`),
  local: (name) => new Ref(`local.${name}`),
  countIndex: new Ref<number>('count.index'),
  eachKey: new Ref<string>('each.key'),
  eachValue: new Ref('each.value'),
};
