// Which JavaScript runtime is executing this code, from the globals each one defines.
// Shared by vitest.config.ts (to label a run) and test/runtime.test.ts (to check it).

export type Runtime = "node" | "bun" | "deno";

export function detectRuntime(): { name: Runtime; version: string } {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  const versions = process.versions as Record<string, string | undefined>;
  if (typeof g.Deno === "object" && g.Deno !== null) return { name: "deno", version: g.Deno.version.deno };
  if (typeof g.Bun === "object" && g.Bun !== null) return { name: "bun", version: g.Bun.version };
  if (versions.deno !== undefined) return { name: "deno", version: versions.deno };
  if (versions.bun !== undefined) return { name: "bun", version: versions.bun };
  return { name: "node", version: versions.node ?? "unknown" };
}

/** The runtime the running npm script says the tests run on (EDGEREC_EXPECT_RUNTIME, default node). */
export function expectedRuntime(): string {
  return (process.env.EDGEREC_EXPECT_RUNTIME ?? "node").trim().toLowerCase();
}
