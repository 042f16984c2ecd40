// The configuration model: what HCL files and TypeScript manifests of one directory
// declare, before evaluation. Every block and attribute keeps its source range.
//
// Attribute values are "raw expressions": JSON data in the shape `@cdktf/hcl2json`
// produces, where strings holding `${...}` or `%{...}` are HCL templates to be parsed
// and evaluated, and everything else is a literal. TypeScript manifests produce the
// same shape (a reference object becomes `"${TYPE.NAME.attr}"`), so both languages
// meet in one model and can reference each other.
import type { ResourceAddr, ResourceInstanceAddr } from '../addresses.js';
import type { SourceRange } from '../diagnostics.js';

export type RawExpr = unknown;

export interface Attribute {
  readonly name: string;
  readonly expr: RawExpr;
  readonly range: SourceRange;
}

/** A block body: its attributes and nested blocks, in source order. */
export interface Body {
  readonly attributes: ReadonlyMap<string, Attribute>;
  readonly blocks: readonly Block[];
  readonly range: SourceRange;
}

export interface Block {
  readonly type: string;
  readonly labels: readonly string[];
  readonly body: Body;
  /** The block header (`resource "network" "front" {`). */
  readonly range: SourceRange;
}

export interface Validation {
  readonly condition: Attribute;
  readonly errorMessage: Attribute;
  readonly range: SourceRange;
}

export interface VariableDecl {
  readonly name: string;
  /** The type constraint as hcl2json gives it (`${number}`, `${list(string)}`), or undefined for any. */
  readonly type?: string;
  readonly typeRange?: SourceRange;
  readonly default?: Attribute;
  readonly description?: string;
  readonly sensitive: boolean;
  readonly nullable: boolean;
  readonly validations: readonly Validation[];
  readonly range: SourceRange;
}

export interface LocalDecl {
  readonly name: string;
  readonly value: Attribute;
  readonly range: SourceRange;
}

export interface Lifecycle {
  readonly preventDestroy?: Attribute;
  readonly createBeforeDestroy?: Attribute;
  /** Attribute paths (`env`, `resources.memory`) or `all`. */
  readonly ignoreChanges: readonly { readonly path: string; readonly range: SourceRange }[];
  readonly ignoreAll: boolean;
}

/** Meta-arguments shared by hosts and resources. */
export interface Expansion {
  readonly count?: Attribute;
  readonly forEach?: Attribute;
}

export interface HostDecl extends Expansion {
  readonly name: string;
  /** Connection attributes (address, port, user, transport, ...), unevaluated. */
  readonly body: Body;
  readonly dependsOn?: Attribute;
  readonly range: SourceRange;
}

export interface ResourceDecl extends Expansion {
  readonly addr: ResourceAddr;
  /** Provider attributes and nested blocks, without the meta-arguments below. */
  readonly body: Body;
  readonly host?: Attribute;
  readonly dependsOn?: Attribute;
  readonly lifecycle: Lifecycle;
  readonly range: SourceRange;
}

export interface OutputDecl {
  readonly name: string;
  readonly value: Attribute;
  readonly description?: string;
  readonly sensitive: boolean;
  readonly dependsOn?: Attribute;
  readonly range: SourceRange;
}

export interface MovedDecl {
  readonly from: ResourceAddr | ResourceInstanceAddr;
  readonly to: ResourceAddr | ResourceInstanceAddr;
  readonly range: SourceRange;
}

export interface BackendDecl {
  readonly type: string;
  readonly body: Body;
  readonly range: SourceRange;
}

export interface Settings {
  readonly requiredVersion?: Attribute;
  readonly backend?: BackendDecl;
}

/** One source file's declarations, as a loader (HCL or TypeScript) produces them. */
export interface FileDecls {
  readonly file: string;
  readonly variables: VariableDecl[];
  readonly locals: LocalDecl[];
  readonly hosts: HostDecl[];
  readonly resources: ResourceDecl[];
  readonly outputs: OutputDecl[];
  readonly moved: MovedDecl[];
  readonly settings: Settings[];
}

export function emptyFileDecls(file: string): FileDecls {
  return { file, variables: [], locals: [], hosts: [], resources: [], outputs: [], moved: [], settings: [] };
}

/** A whole configuration directory, merged and checked for duplicates. */
export interface Config {
  readonly dir: string;
  readonly files: readonly string[];
  /** sha256 over the files' names and contents: saved plans refuse a changed configuration. */
  readonly hash: string;
  readonly variables: ReadonlyMap<string, VariableDecl>;
  readonly locals: ReadonlyMap<string, LocalDecl>;
  readonly hosts: ReadonlyMap<string, HostDecl>;
  /** Keyed by `ResourceAddr.key`. */
  readonly resources: ReadonlyMap<string, ResourceDecl>;
  readonly outputs: ReadonlyMap<string, OutputDecl>;
  readonly moved: readonly MovedDecl[];
  readonly settings: Settings;
}
