// The expression language: parsing templates (once, cached), finding references,
// evaluating with Terraform's semantics, built-in functions and type constraints.
export {
  astCacheStats,
  clearAstCache,
  collectTemplates,
  exportEntries,
  getAst,
  parseTemplates,
  primeCache,
  type CacheEntry,
  type ExpressionType,
} from './ast-cache.js';
export { evaluate, type EvalContext, type EvalResult, type Scope } from './evaluate.js';
export { FUNCTIONS, functionNames } from './functions.js';
export { clearReferenceCache, referencesOf, type Reference } from './references.js';
export { isTemplate } from './template-source.js';
export { convertToType, parseTypeConstraint, typeString, type ObjectAttribute, type TypeConstraint } from './types.js';
export { formatNumber } from './conversions.js';
