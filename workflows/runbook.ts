// The engine moved to workflows/engine/ (one file per job); this keeps the old import path for
// test workflows and tools that still use it.
export * from './engine/index.js';
