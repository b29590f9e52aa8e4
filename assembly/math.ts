// Transcendental functions for the host. JavaScript engines implement Math.log, log1p
// and pow differently (V8 and JavaScriptCore disagree in the last bit), so host code that
// must give the same model on every runtime calls these: AssemblyScript's own
// implementations, compiled into the module, give the same bits everywhere.

export function log(x: f64): f64 { return Math.log(x); }
export function log1p(x: f64): f64 { return Math.log1p(x); }
export function pow(x: f64, y: f64): f64 { return Math.pow(x, y); }
