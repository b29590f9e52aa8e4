import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli, runCliJson } from "./support/cli.js";

const shared = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const movielens = join(shared, "ml-latest-small/ratings.csv");
const lastfm = join(shared, "lastfm-2k/user_artists.dat");
const haveData = existsSync(movielens) && existsSync(lastfm);
const work = mkdtempSync(join(tmpdir(), "edgerec-cli-"));

interface Stats { users: number; items: number; interactions: number; topItems: { label?: string; users: number }[]; perUserCount: { mean: number; min: number; max: number } }
interface Answer { items: { key: string; label: string; score: number; because?: { label: string }[] }[]; notes: string[] }

describe.skipIf(!haveData)("edgerec CLI on the shared datasets", () => {
  const movielensModel = join(work, "ml.edgerec");
  const lastfmModel = join(work, "lastfm.edgerec");

  beforeAll(() => {
    runCliJson(["fit", movielens, "-o", movielensModel, "--factors", "32", "--iterations", "8", "--regularization", "0.05", "--seed", "1"]);
    runCliJson(["fit", lastfm, "-o", lastfmModel, "--factors", "32", "--iterations", "8", "--regularization", "0.05", "--seed", "1"]);
  }, 120_000);

  it("fit --no-low-memory (values copied) writes the same model bytes as the default fit", () => {
    const copied = join(work, "lastfm-values-copied.edgerec");
    runCliJson(["fit", lastfm, "-o", copied, "--factors", "32", "--iterations", "8", "--regularization", "0.05", "--seed", "1", "--no-low-memory"]);
    expect(readFileSync(copied).equals(readFileSync(lastfmModel))).toBe(true);
  });

  it("stats: ml-latest-small's published counts and its most rated movie", () => {
    const stats = runCliJson<Stats>(["stats", movielens]);
    expect(stats).toMatchObject({ users: 610, items: 9724, interactions: 100836 });
    expect(stats.perUserCount.min).toBe(20);
    expect(stats.perUserCount.mean).toBeCloseTo(100836 / 610, 6);
    expect(stats.topItems[0]).toMatchObject({ label: "Forrest Gump (1994)", users: 329 });
  });

  it("stats: HetRec Last.fm 2K's counts, artists by name", () => {
    const stats = runCliJson<Stats>(["stats", lastfm]);
    expect(stats).toMatchObject({ users: 1892, items: 17632, interactions: 92834 });
    expect(stats.topItems[0].label).toBe("Lady Gaga");
  });

  it("recommend --user skips what the user rated, in the data's own ids and titles", () => {
    const answer = runCliJson<Answer & { user: string }>(["recommend", "-m", movielensModel, "--user", "1", "-n", "10"]);
    expect(answer.items).toHaveLength(10);
    // User 1's rated movie ids, read independently from the CSV.
    const rated = new Set(readFileSync(movielens, "utf8").split(/\r?\n/).slice(1).filter((l: string) => l.startsWith("1,")).map((l: string) => l.split(",")[1]));
    for (const item of answer.items) expect(rated.has(item.key)).toBe(false);
    expect(answer.items[0].label).toMatch(/\(\d{4}\)$/);
  });

  it("recommend --liked folds in a new user from forgiving names; unknown names fail with suggestions", () => {
    const answer = runCliJson<Answer & { liked: string[] }>(["recommend", "-m", lastfmModel, "--liked", "maroon5,the beatles, radiohead", "-n", "5"]);
    expect(answer.liked).toEqual(["Maroon 5", "The Beatles", "Radiohead"]);
    expect(answer.items).toHaveLength(5);
    for (const item of answer.items) expect(answer.liked).not.toContain(item.label);
    const unknown = runCli(["recommend", "-m", lastfmModel, "--liked", "radiohed"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no item 'radiohed' in the model; did you mean: 'Radiohead'/);
  });

  it("similar --item and explain --user --item answer by name; contributions sum to the score", () => {
    const similar = runCliJson<Answer & { item: string }>(["similar", "-m", movielensModel, "--item", "toy story", "-n", "5"]);
    expect(similar.item).toBe("Toy Story (1995)");
    expect(similar.items.map((i) => i.label)).not.toContain("Toy Story (1995)");
    const explanation = runCliJson<{ score: number; likedCount: number; contributions: { score: number }[] }>(["explain", "-m", movielensModel, "--user", "1", "--item", similar.items[0].label, "-n", "1000"]);
    expect(explanation.likedCount).toBe(232);
    const sum = explanation.contributions.reduce((s, c) => s + c.score, 0);
    expect(Math.abs(sum - explanation.score)).toBeLessThan(1e-3);
  });

  it("evaluate: ALS and BPR beat the popularity baseline on leave-latest-out, 100 sampled candidates", () => {
    interface Evaluation { metrics: { hitRatio: number; ndcg: number }; usersEvaluated: number; curve: unknown[] }
    const evaluate = (args: string[]) => runCliJson<Evaluation>(["evaluate", movielens, "--seed", "1", ...args]);
    const popular = evaluate(["--model", "popular"]);
    const als = evaluate(["--model", "als", "--factors", "32", "--iterations", "8", "--regularization", "0.05"]);
    const svg = join(work, "bpr-auc.svg");
    const bpr = evaluate(["--model", "bpr", "--factors", "32", "--iterations", "30", "--learning-rate", "0.05", "--svg", svg]);
    expect(popular.usersEvaluated).toBe(610);
    expect(als.metrics.hitRatio).toBeGreaterThan(popular.metrics.hitRatio + 0.05);
    expect(bpr.metrics.hitRatio).toBeGreaterThan(popular.metrics.hitRatio + 0.05);
    expect(bpr.curve).toHaveLength(30);
    expect(readFileSync(svg, "utf8")).toMatch(/^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  }, 120_000);

  it("refuses bad input naming file and line, and writes no model", () => {
    const bad = join(work, "bad.csv");
    writeFileSync(bad, "user,item,rating\n1,10,4\n2,11,four\n");
    const output = join(work, "bad.edgerec");
    const result = runCli(["fit", bad, "--columns", "user=user,item=item,value=rating", "-o", output]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${bad}:3`);
    expect(existsSync(output)).toBe(false);
    const missing = runCli(["fit", bad, "--columns", "user=user,item=movie", "-o", output]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/movie/);
    expect(existsSync(output)).toBe(false);
  });
});

describe("edgerec CLI basics", () => {
  it("every command has --help", () => {
    for (const command of ["fit", "recommend", "similar", "explain", "stats", "evaluate", "demo"]) {
      const result = runCli([command, "--help"]);
      expect(result.status, command).toBe(0);
      expect(result.stdout).toContain(`edgerec ${command}`);
    }
  });

  it("the demo trains on the built-in MovieLens data and explains its recommendations", () => {
    const result = runCliJson<{ similar: Answer & { item: string }; recommendations: Answer & { liked: string[] } }>(["demo"]);
    expect(result.similar.item).toBe("Toy Story (1995)");
    expect(result.similar.items).toHaveLength(10);
    expect(result.recommendations.liked).toHaveLength(5);
    expect(result.recommendations.items).toHaveLength(10);
    for (const item of result.recommendations.items) expect(item.because!.length).toBeGreaterThan(0);
  }, 60_000);
});

describe("runtime parity", () => {
  // Run once, from the Node run: the same command under the three runtimes must print
  // the same bytes (same data, same seed: the same model and the same answers).
  const bin = (name: string) => fileURLToPath(new URL(`../node_modules/.bin/${name}`, import.meta.url));
  const onNode = !("Bun" in globalThis) && !("Deno" in globalThis);
  it.skipIf(!onNode || !existsSync(bin("bun")) || !existsSync(bin("deno")))("node, bun and deno print identical demo output", async () => {
    const { spawnSync } = await import("node:child_process");
    const cli = fileURLToPath(new URL("../cli/edgerec.mjs", import.meta.url));
    const run = (command: string, args: string[]) => {
      const result = spawnSync(command, args, { encoding: "utf8", timeout: 120_000 });
      expect(result.status, `${command}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    const node = run(process.execPath, [cli, "demo", "--quiet"]);
    expect(node).toContain("Movies most similar to Toy Story (1995)");
    expect(run(bin("bun"), [cli, "demo", "--quiet"])).toBe(node);
    expect(run(bin("deno"), ["run", "-A", "--node-modules-dir=manual", cli, "demo", "--quiet"])).toBe(node);
  }, 120_000);

  it.skipIf(!onNode || !haveData || !existsSync(bin("bun")) || !existsSync(bin("deno")))("node, bun and deno write the same model bytes for bm25-weighted Last.fm data", async () => {
    const { spawnSync } = await import("node:child_process");
    const { createHash } = await import("node:crypto");
    const cli = fileURLToPath(new URL("../cli/edgerec.mjs", import.meta.url));
    const fit = (command: string, prefix: string[], name: string) => {
      const output = join(work, `parity-${name}.edgerec`);
      const result = spawnSync(command, [...prefix, cli, "fit", lastfm, "--factors", "16", "--iterations", "3", "-o", output, "--quiet"], { encoding: "utf8", timeout: 120_000 });
      expect(result.status, `${name}: ${result.stderr}`).toBe(0);
      return createHash("sha256").update(readFileSync(output)).digest("hex");
    };
    const node = fit(process.execPath, [], "node");
    expect(fit(bin("bun"), [], "bun")).toBe(node);
    expect(fit(bin("deno"), ["run", "-A", "--node-modules-dir=manual"], "deno")).toBe(node);
  }, 120_000);
});

describe("edgerec fit --model bpr --sample-order", () => {
  // 300 users × 60 items, ~5,400 pairs: one full block of 4,096 and a short one.
  const data = join(work, "bpr-order.csv");
  writeFileSync(data, "user,item\n" + Array.from({ length: 300 * 60 }, (_, e) => [Math.floor(e / 60), e % 60] as const)
    .filter(([u, i]) => (u * 7 + i * 13) % 10 < 3).map(([u, i]) => `u${u},i${i}`).join("\n") + "\n");
  const fitWith = (order: string[]) => {
    const output = join(work, `bpr-${order.join("") || "default"}.edgerec`);
    const result = runCli(["fit", data, "--columns", "user=user,item=item", "--model", "bpr", "--factors", "4", "--iterations", "2", "--seed", "3", "-o", output, "--quiet", ...order]);
    return { result, output };
  };

  it("trains in user-block order by default, in random order when asked; names a bad order", async () => {
    const { BayesianPersonalizedRanking } = await import("../src/index.js");
    const orderOf = (order: string[]) => {
      const { result, output } = fitWith(order);
      expect(result.status, result.stderr).toBe(0);
      return BayesianPersonalizedRanking.load(readFileSync(output)).options.sampleOrder;
    };
    expect(orderOf([])).toBe("userBlocks");
    expect(orderOf(["--sample-order", "user-blocks"])).toBe("userBlocks");
    expect(orderOf(["--sample-order", "random"])).toBe("random");
    const bad = fitWith(["--sample-order", "shuffled"]).result;
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/sampleOrder must be 'random' or 'userBlocks', got 'shuffled'/);
  }, 60_000);
});
