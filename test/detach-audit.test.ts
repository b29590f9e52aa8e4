// The detach audit (test/support/detach-audit.ts) only proves something if it really
// detaches: a view taken before an allocation must read as empty after it.
import { describe, expect, it } from "vitest";
import { getEngine } from "../src/index.js";
import { detachAudit } from "./support/detach-audit.js";

describe.runIf(detachAudit)("detach audit", () => {
  it("runs on an unshared memory whose views detach at every allocation", () => {
    const { heap, shared } = getEngine();
    expect(shared).toBe(false);
    const ptr = heap.alloc(16);
    const before = heap.f32(ptr, 4);
    expect(before.length).toBe(4);
    const other = heap.alloc(16);
    expect(before.length).toBe(0);
    expect(heap.f32(ptr, 4).length).toBe(4);
    heap.release(ptr);
    heap.release(other);
  });
});
