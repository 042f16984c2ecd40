// The input side of the typed API: what a manifest may write for an argument whose
// evaluated type is known. Every leaf may be a literal or a reference; nested blocks
// are data (a block cannot be a reference), a repeatable block may be given as one
// object or an array. The mapped types are homomorphic so that editors keep each
// property's optionality and its JSDoc from `resource-types.ts`.
import type { Input, Ref } from './ref.js';
import type { NestedBlockName, ResourceType, ResourceTypes } from './resource-types.js';

type IsAny<T> = 0 extends 1 & T ? true : false;

/** `undefined` for optional properties, so `cond ? x : undefined` is accepted where the property may be left out. */
type Omittable<O, K extends keyof O> = object extends Pick<O, K> ? undefined : never;

/** A value of type `V`, where every leaf may also be a reference. */
export type DeepInput<V> =
  IsAny<V> extends true
    ? any // eslint-disable-line @typescript-eslint/no-explicit-any -- `any` attributes stay `any`
    : unknown extends V
      ? unknown
      : Input<V extends readonly (infer E)[] ? DeepInput<E>[] : V extends object ? { [K in keyof V]: DeepInput<V[K]> } : V>;

/** The fields of one nested block. */
export type BlockFields<B> = { [K in keyof B]: DeepInput<Exclude<B[K], undefined>> | Omittable<B, K> };

/** A nested block argument: a repeatable block may be one object or an array of them. */
export type BlockInput<B> = B extends readonly (infer E)[] ? BlockFields<E> | BlockFields<E>[] : BlockFields<B>;

/** The arguments of a resource type as a manifest writes them. */
export type ArgsInput<T extends ResourceType> = {
  [K in keyof ResourceTypes[T]]:
    | (K extends NestedBlockName<T> ? BlockInput<Exclude<ResourceTypes[T][K], undefined>> : DeepInput<Exclude<ResourceTypes[T][K], undefined>>)
    | Omittable<ResourceTypes[T], K>;
};

/** The evaluated form of an input type: references replaced by what they evaluate to. */
export type Resolved<V> =
  V extends Ref<infer U> ? U : V extends readonly (infer E)[] ? Resolved<E>[] : V extends object ? { [K in keyof V]: Resolved<V[K]> } : V;
