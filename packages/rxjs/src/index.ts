/**
 * @millrace/rxjs — RxJS at the edges of a job: `fromObservable` reads an observable as a source, `toObservable` and
 * `observableSink` turn a stream's records into an observable. RxJS is not on the hot path: records cross into the
 * engine in batches and out of it as the sink writes them.
 *
 * Depends on `@millrace/core`'s SPI (`Source`, `Sink`) and `rxjs` only, never on `@millrace/runtime`: any executor
 * that drives the SPI runs these connectors.
 */
export { DEFAULT_MAX_BUFFERED, fromObservable, type FromObservableOptions } from './from-observable.js';
export { ObservableSourceError } from './observable-source-error.js';
export { observableSink, toObservable, type ObservableSink, type ToObservableOptions } from './to-observable.js';
