/**
 * The compiled evaluator: a bundle revision prepared once (`compiledBundle`), deciding as `evaluate` does. `evaluate`
 * stays the reference implementation; the webhook and the CLI decide with this.
 * @packageDocumentation
 */
export { CompiledBundle, compiledBundle } from './evaluator.ts';
