// Whether this host stores numbers little-endian, as the model file, the wasm module and
// the word-at-a-time CRC read them (every mainstream host; big-endian ones take the slow paths).

/** True on little-endian hosts. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
