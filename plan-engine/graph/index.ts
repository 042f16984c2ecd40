// The dependency graph: build it (dag), check it (cycles), run it (walk), show it (dot).
export { Graph } from './dag.js';
export { findCycles, cyclePath, describeCycle } from './cycles.js';
export { walk, type VisitOutcome, type WalkOptions, type WalkResult } from './walk.js';
export { toDot, type DotOptions } from './dot.js';
