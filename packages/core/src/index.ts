/**
 * @millrace/core — the public API (streams, windows, state, time), the logical plan and planner, and the interfaces
 * connectors implement (Source, Sink, FileSystem). Pure TypeScript: imports no other package and no Node I/O module.
 */
export * from './aggregate.js';
export * from './clock.js';
export * from './data-stream.js';
export * from './duration.js';
export * from './environment.js';
export * from './errors.js';
export * from './filesystem.js';
export * from './functions.js';
export * from './job.js';
export * from './keyed-stream.js';
export * from './output-tag.js';
export * from './plan.js';
export * from './planner.js';
export * from './sink.js';
export * from './sinks.js';
export * from './source.js';
export * from './sources.js';
export * from './state.js';
export * from './watermarks.js';
export * from './windowed-stream.js';
export * from './windows.js';
