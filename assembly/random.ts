// Counter-based random numbers: element i of a stream is a pure function of
// (seed, stream, i), so fills are identical on every runtime and for any split of
// the work across calls or threads. Math here is AssemblyScript's own, compiled
// into the module, so even log/cos give the same bits everywhere.

/** SplitMix64's finaliser: 64 well-mixed bits from a counter. */
// @ts-ignore: decorator
@inline
export function splitmix64(x: u64): u64 {
  x += 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

// @ts-ignore: decorator
@inline
function unitInterval(seed: u64, counter: u64): f64 {
  // 53 random bits → [0, 1)
  return <f64>(splitmix64(seed ^ splitmix64(counter)) >> 11) * (1.0 / 9007199254740992.0);
}

/** out[i] = scale·U[0,1) for i in [0, n), element i drawn from counter first+i. */
export function fillUniform(out: usize, n: i32, seed: u64, first: u64, scale: f32): void {
  for (let i = 0; i < n; i++) {
    store<f32>(out + (<usize>i << 2), <f32>(unitInterval(seed, first + <u64>i) * <f64>scale));
  }
}

/** out[i] = N(0, stddev²), Box–Muller on counters 2(first+i) and 2(first+i)+1. */
export function fillNormal(out: usize, n: i32, seed: u64, first: u64, stddev: f32): void {
  for (let i = 0; i < n; i++) {
    const c = (first + <u64>i) << 1;
    const u1 = 1.0 - unitInterval(seed, c); // (0, 1]: log stays finite
    const u2 = unitInterval(seed, c + 1);
    const z = Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    store<f32>(out + (<usize>i << 2), <f32>(z * <f64>stddev));
  }
}
