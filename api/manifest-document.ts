// What a manifest hands to the engine: its blocks as data, in the shape of HCL
// (blocks with labels, attributes holding raw expressions, nested blocks), plus the
// problems found while turning values into data. It crosses from the manifest's
// evaluation context to the engine as a JSON string, so nothing in it can call back
// into the manifest.
import type { RawValue } from './raw-value.js';

export interface DocumentBlock {
  readonly type: string;
  readonly labels: readonly string[];
  /** [name, raw expression] in declaration order. */
  readonly attributes: readonly (readonly [string, RawValue])[];
  readonly blocks: readonly DocumentBlock[];
  /** The call stack at the declaration (top-level blocks only); the loader maps it to the source line. */
  readonly site?: string;
}

export interface DocumentProblem {
  /** The declaration's address (`container.web`, `var.env`). */
  readonly address: string;
  /** The attribute path inside it (`env.TZ`), or empty. */
  readonly path: string;
  readonly message: string;
  readonly site?: string;
}

export interface ManifestDocument {
  readonly blocks: readonly DocumentBlock[];
  readonly problems: readonly DocumentProblem[];
}
