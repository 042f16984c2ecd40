// Entry point of the API as the manifest loader runs it inside a manifest's evaluation
// context: the public module (served as `require('tsinfra')`) and the one function the
// loader needs to read the result, which returns a JSON string so that only data
// leaves the context.
import * as tsinfra from './index.js';
import { documentOf, isManifest } from './manifest.js';

export { tsinfra };

// Taken before any manifest code runs: a manifest may replace the global.
const stringify = JSON.stringify;

/** The manifest's document as JSON, or undefined when `v` is not a Manifest. */
export function manifestDocumentJson(v: unknown): string | undefined {
  return isManifest(v) ? stringify(documentOf(v)) : undefined;
}
