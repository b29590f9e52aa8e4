import { describe, expect, it } from "vitest";
import { NameIndex, normalizeName } from "../src/index.js";

describe("forgiving names", () => {
  const labels = ["Maroon 5", "Björk", "American President, The (1995)", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", "Hamlet (1990)", "Hamlet (1996)", "Heat (1995)", "Radiohead"];

  it("normalizes case, accents, spacing and punctuation", () => {
    expect(normalizeName("Maroon 5")).toBe("maroon5");
    expect(normalizeName("  björk! ")).toBe("bjork");
    expect(normalizeName("AC/DC")).toBe(normalizeName("ac dc"));
  });

  it("finds names the way people type them", () => {
    const index = new NameIndex(labels);
    expect(index.lookup("maroon5")).toMatchObject({ found: true, id: 0 });
    expect(index.lookup("bjork")).toMatchObject({ found: true, id: 1 });
    expect(index.lookup("the american president")).toMatchObject({ found: true, id: 2 });
    expect(index.lookup("American President, The")).toMatchObject({ found: true, id: 2 });
    expect(index.lookup("amelie")).toMatchObject({ found: true, id: 3 });
    expect(index.lookup("heat (1995)")).toMatchObject({ found: true, id: 6 });
  });

  it("takes the most popular of equal names and says which others there were", () => {
    const index = new NameIndex(labels, [0, 0, 0, 0, 5, 40, 0, 0]);
    const match = index.lookup("hamlet");
    expect(match).toMatchObject({ found: true, id: 5, alternatives: [4] });
  });

  it("answers a miss with the closest names, never silently", () => {
    const index = new NameIndex(labels);
    const miss = index.lookup("radiohed");
    expect(miss.found).toBe(false);
    if (!miss.found) expect(miss.suggestions[0].label).toBe("Radiohead");
    const far = index.lookup("zzzzzzzzzz");
    expect(far.found).toBe(false);
    if (!far.found) expect(far.suggestions).toEqual([]);
  });
});
