// `npm run test:detach` (EDGEREC_DETACH_AUDIT=1): the whole suite on an unshared memory
// that grows by a page at every allocation. Growing an unshared memory detaches its old
// buffer, as happens in browsers without cross-origin isolation, so any view the library
// (or a test) keeps across an allocation reads as empty and the test that relies on it
// fails. On Node's default shared memory a stale view still reads the right bytes, which
// is how bm25Weight once shipped one unnoticed.
import { defaultWasmUrl, initEngine } from "../../src/engine.js";

/** Whether this run is the detach audit (tests that need shared memory skip). */
export const detachAudit = Boolean(process.env.EDGEREC_DETACH_AUDIT);

if (detachAudit) {
  const engine = await initEngine(defaultWasmUrl(false), { shared: false });
  engine.heap.growOnEveryAlloc = true;
}
