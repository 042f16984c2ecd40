// The state package: the model, the file format, and where state is stored.
export * from './model.js';
export * from './statefile.js';
export * from './backend.js';
export * from './local-backend.js';
export * from './state-writer.js';
export { StateKey, ENCRYPTED_MARKER, isEncryptedValue } from './encryption.js';
export { parseAttrPath, formatAttrPath, resolveAttrPath } from './attribute-path.js';
