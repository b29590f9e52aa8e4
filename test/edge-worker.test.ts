// The edge worker example (examples/edge-worker/) run for real: built with its build
// script, served by workerd (Cloudflare's Workers runtime, from npm) on a loopback port,
// and asked over HTTP. Its answers are checked against the library answering the same
// questions in-process on the same model file, and every refusal for its status and message.

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import process from "node:process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlternatingLeastSquares, NamedQueries } from "../src/index.js";
// @ts-expect-error: a plain JavaScript build script, no type declarations
import { buildEdgeWorker, MODEL_NAME } from "../examples/edge-worker/build.mjs";

interface WorkerItem { id: string; title: string; score: number; genres?: string; because?: { id: string; title: string; score: number }[] }
interface WorkerAnswer { item?: string; liked?: string[]; notes: string[]; items: WorkerItem[] }
interface WorkerError { error: string; code: string; item?: string; suggestions?: string[]; parameter?: string }

const favourites = ["Star Wars: Episode IV - A New Hope", "Matrix, The", "Alien", "Terminator 2: Judgment Day", "Back to the Future"];

let workerd: ChildProcess | undefined;
let workerdOutput = "";
let base = "";
let reference: NamedQueries;

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Polls until workerd answers; fails early, with what workerd printed, if it exits.
async function waitUntilServing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (workerd?.exitCode !== null || workerd?.signalCode) throw new Error(`workerd exited (${workerd?.exitCode ?? workerd?.signalCode}):\n${workerdOutput}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`workerd did not answer ${url} within ${timeoutMs} ms:\n${workerdOutput}`);
}

async function get<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${base}${path}`, init);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

const query = (params: [string, string][]) => new URLSearchParams(params).toString();

describe("edge worker example in workerd", () => {
  beforeAll(async () => {
    // Reuses the trained model when a fresh one is there (it trains in about 2 s otherwise).
    const { outDir, configFile } = await buildEdgeWorker({ log: () => {} });
    reference = new NamedQueries(AlternatingLeastSquares.load(new Uint8Array(readFileSync(`${outDir}${MODEL_NAME}`))));

    // The workerd package's main export is the path of the native binary for this platform:
    // spawning it directly (not the npm shim) means the process we kill is workerd itself.
    const workerdBinary = (createRequire(import.meta.url)("workerd") as { default: string }).default;
    const port = await freeLoopbackPort();
    base = `http://127.0.0.1:${port}`;
    workerd = spawn(workerdBinary, ["serve", configFile, "--socket-addr", `http=127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
    // Should this test process end without afterAll (a crash, a forced exit), take workerd with it.
    const child = workerd;
    process.once("exit", () => child.kill("SIGKILL"));
    workerd.stdout!.on("data", (chunk) => { workerdOutput += chunk; });
    workerd.stderr!.on("data", (chunk) => { workerdOutput += chunk; });
    await waitUntilServing(`${base}/`, 15_000);
  }, 120_000);

  afterAll(async () => {
    const running = workerd;
    if (!running || running.exitCode !== null || running.signalCode) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  });

  it("GET / describes both endpoints", async () => {
    const { status, body } = await get<{ endpoints: Record<string, string> }>("/");
    expect(status).toBe(200);
    const routes = Object.keys(body.endpoints);
    expect(routes.some((route) => route.startsWith("GET /recommend?liked="))).toBe(true);
    expect(routes.some((route) => route.startsWith("GET /similar?item="))).toBe(true);
  });

  it("GET /similar: Toy Story's sequels first, the same items and scores as the library in-process", async () => {
    const { status, body } = await get<WorkerAnswer>(`/similar?${query([["item", "toy story"], ["n", "10"]])}`);
    expect(status).toBe(200);
    expect(body.item).toBe("Toy Story (1995)");
    const titles = body.items.map((item) => item.title);
    expect(titles).toHaveLength(10);
    expect(titles).toContain("Toy Story 2 (1999)");
    expect(titles).not.toContain("Toy Story (1995)");
    const expected = reference.similar("toy story", { n: 10 });
    expect(body.items.map((item) => item.id)).toEqual(expected.items.map((item) => item.key));
    body.items.forEach((item, j) => expect(item.score).toBeCloseTo(expected.items[j].score, 3));
    expect(body.items[0].genres).toMatch(/Animation/);
  });

  it("GET /recommend: five liked movies (repeated liked=, one with a comma) give n new movies, each explained by liked ones", async () => {
    const { status, body } = await get<WorkerAnswer>(`/recommend?${query([...favourites.map((title): [string, string] => ["liked", title]), ["n", "7"]])}`);
    expect(status).toBe(200);
    expect(body.liked).toEqual([
      "Star Wars: Episode IV - A New Hope (1977)", "Matrix, The (1999)", "Alien (1979)", "Terminator 2: Judgment Day (1991)", "Back to the Future (1985)",
    ]);
    expect(body.items).toHaveLength(7);
    const likedIds = new Set(reference.findItems(favourites).map((i) => reference.catalog.itemKeys[i]));
    for (const item of body.items) {
      expect(likedIds.has(item.id)).toBe(false);
      expect(item.because!.length).toBeGreaterThan(0);
      for (const reason of item.because!) expect(body.liked).toContain(reason.title);
    }
    const scores = body.items.map((item) => item.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const expected = reference.recommendForLiked(favourites, { n: 7, explain: true });
    expect(body.items.map((item) => item.id)).toEqual(expected.items.map((item) => item.key));
    expect(body.items[0].because!.map((reason) => reason.id)).toEqual(expected.items[0].because!.map((reason) => reason.key));
  });

  it("GET /recommend: '|' and ',' separated lists in one liked=, and forgiving titles, mean the same as repeated liked=", async () => {
    const repeated = await get<WorkerAnswer>(`/recommend?${query([["liked", "Alien"], ["liked", "Heat"], ["liked", "Matrix, The"], ["n", "5"]])}`);
    const piped = await get<WorkerAnswer>(`/recommend?${query([["liked", "Alien|Heat|Matrix, The"], ["n", "5"]])}`);
    const commas = await get<WorkerAnswer>(`/recommend?${query([["liked", "Alien,Heat,Matrix, The"], ["n", "5"]])}`);
    const forgiving = await get<WorkerAnswer>(`/recommend?${query([["liked", "alien | HEAT (1995) | the matrix"], ["n", "5"]])}`);
    expect(repeated.body.liked).toEqual(["Alien (1979)", "Heat (1995)", "Matrix, The (1999)"]);
    for (const other of [piped, commas, forgiving]) {
      expect(other.status).toBe(200);
      expect(other.body.liked).toEqual(repeated.body.liked);
      expect(other.body.items.map((item) => item.id)).toEqual(repeated.body.items.map((item) => item.id));
    }
  });

  it("n up to 100 is served; 0, 101, 1.5, 1e1 and words are refused", async () => {
    expect((await get<WorkerAnswer>("/similar?item=Heat&n=100")).body.items).toHaveLength(100);
    for (const n of ["0", "101", "1.5", "1e1", "ten", ""]) {
      const { status, body } = await get<WorkerError>(`/similar?item=Heat&n=${n}`);
      expect(status, `n=${n}`).toBe(400);
      expect(body).toMatchObject({ code: "invalid_parameter", parameter: "n" });
      expect(body.error).toContain("n must be a whole number from 1 to 100");
    }
  });

  it("unknown items: 404 with did-you-mean suggestions, on both endpoints", async () => {
    const similar = await get<WorkerError>("/similar?item=Toy%20Storyy");
    expect(similar.status).toBe(404);
    expect(similar.body).toMatchObject({ code: "unknown_item", item: "Toy Storyy" });
    expect(similar.body.suggestions).toContain("Toy Story (1995)");
    expect(similar.body.error).toMatch(/^no item 'Toy Storyy' in the model; did you mean: 'Toy Story \(1995\)'/);

    const recommend = await get<WorkerError>(`/recommend?${query([["liked", "Alien"], ["liked", "Heatt"]])}`);
    expect(recommend.status).toBe(404);
    expect(recommend.body).toMatchObject({ code: "unknown_item", item: "Heatt" });
    expect(recommend.body.suggestions).toContain("Heat (1995)");
  });

  it("missing or empty parameters, too many liked items: 400 saying what is wrong", async () => {
    for (const path of ["/similar", "/similar?item=", "/similar?item=%20%20"]) {
      const { status, body } = await get<WorkerError>(path);
      expect(status, path).toBe(400);
      expect(body).toMatchObject({ code: "missing_parameter", parameter: "item" });
      expect(body.error).toContain("missing parameter item");
    }
    for (const path of ["/recommend", "/recommend?liked=", "/recommend?liked=%7C%20%7C&n=3"]) {
      const { status, body } = await get<WorkerError>(path);
      expect(status, path).toBe(400);
      expect(body).toMatchObject({ code: "missing_parameter", parameter: "liked" });
      expect(body.error).toContain("missing parameter liked");
    }
    const manyTitles = reference.catalog.itemLabels!.slice(0, 60);
    const tooMany = await get<WorkerError>(`/recommend?${query(manyTitles.map((title): [string, string] => ["liked", title]))}`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatch(/^too many liked items: \d+, at most 50$/);
  });

  it("unknown routes are 404, other methods than GET 405 with Allow: GET", async () => {
    const unknown = await get<WorkerError>("/recommendations?liked=Alien");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: "not_found" });
    expect(unknown.body.error).toContain("no endpoint /recommendations");

    const post = await get<WorkerError>("/similar?item=Alien", { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET");
    expect(post.body).toMatchObject({ code: "method_not_allowed" });
    expect(post.body.error).toContain("method POST is not allowed");
  });
});
