/**
 * What the bootstrap's files see besides the ES2023 library (type-checking only; see tsconfig.json here).
 * The worker evaluates the files, concatenated, as the body of a closure over three isolated-vm Callbacks,
 * which arrive in the isolate as plain functions named $0, $1 and $2 (the parameters of the function the
 * bootstrap is compiled as, runtime/isolate.ts).
 */
declare const $0: unknown;
declare const $1: unknown;
declare const $2: unknown;
