// The `tsinfra` package as `*.infra.ts` manifests import it.
export { Manifest, type ResourceArgs } from './manifest.js';
export { ref, type References, type ResourceShortcuts } from './references.js';
export { expr, hcl } from './templates.js';
export { Ref, type Input, type Widen } from './ref.js';
export type { AttributeRefs, CamelCase, HostInstanceRef, HostRef, ResourceInstanceRef, ResourceRef } from './resource-ref.js';
export type { ArgsInput, BlockFields, BlockInput, DeepInput, Resolved } from './inputs.js';
export type * from './block-types.js';
export type * from './attribute-refs.js';
export * from './resource-types.js';
