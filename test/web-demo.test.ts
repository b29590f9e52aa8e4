// The web demo end to end in real Chromium: build web-demo/ into its static folder, serve
// it on a loopback port (with and without the COOP/COEP headers), and use it as a person
// would: wait for training on the built-in MovieLens data, search "Toy Story", pick five
// favourites, read the recommendations with their reasons, run the evaluation, and drop a
// file with a bad line. Leaves a screenshot in test/.tmp/web-demo.png.
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectRuntime } from "./support/runtime.js";

const chromiumPath = "/usr/bin/chromium";
const runtime = detectRuntime().name;
// Playwright drives the browser from Node (it needs Node's child-process and pipe APIs);
// under Bun and Deno the same page would run in the same Chromium, so nothing is gained
// by running it three times.
const notNode = runtime !== "node";
// Without Chromium the test can only be skipped on a developer's machine; CI installs it
// (.ci/run) and must run this test, so there a missing browser fails the test instead.
const noBrowser = !existsSync(chromiumPath) && !process.env.CI;
if (!notNode && noBrowser) console.warn(`web-demo.test.ts: skipped: no Chromium at ${chromiumPath} (apt-get install -y chromium)`);

const shotDir = fileURLToPath(new URL("./.tmp/", import.meta.url));
const favourites = ["Star Wars: Episode IV - A New Hope (1977)", "Matrix, The (1999)", "Alien (1979)", "Terminator 2: Judgment Day (1991)", "Back to the Future (1985)"];

type Browser = import("playwright-core").Browser;
type Page = import("playwright-core").Page;
type Server = { url: string; close(): Promise<void> };

describe.skipIf(notNode || noBrowser)("web demo in Chromium", () => {
  let browser: Browser;
  const servers: Server[] = [];
  let serve: (options: { port: number; isolated: boolean }) => Promise<Server>;

  beforeAll(async () => {
    // Always a fresh build: esbuild takes a fraction of a second, and a stale folder would test old code.
    // The demo's own build and server (plain JavaScript, loaded by URL: no type declarations).
    const { buildWebDemo } = await import(new URL("../web-demo/build.mjs", import.meta.url).href);
    ({ serveWebDemo: serve } = await import(new URL("../web-demo/serve.mjs", import.meta.url).href));
    const built = await buildWebDemo({ quiet: true });
    console.log(`web demo build: ${(built.total / 1024).toFixed(0)} KiB in total, page code and styles ${(built.code / 1024).toFixed(0)} KiB`);
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    mkdirSync(shotDir, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  async function open(isolated: boolean): Promise<{ page: Page; errors: string[]; trainedAfter: number }> {
    const server = await serve({ port: 0, isolated });
    servers.push(server);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => { if (message.type() === "error") errors.push(message.text()); });
    const started = Date.now();
    await page.goto(server.url);
    await page.waitForSelector("body[data-trained=true]", { timeout: 60_000 });
    return { page, errors, trainedAfter: Date.now() - started };
  }

  // Types into the search box, checks the suggestion, and takes it with the keyboard.
  async function searchAndChoose(page: Page, query: string, expected: string): Promise<void> {
    await page.fill("#search-input", "");
    await page.type("#search-input", query);
    const option = page.locator("#search-list [role=option]", { hasText: expected }).first();
    await option.waitFor();
    const options = await page.locator("#search-list [role=option] .title").allTextContents();
    const index = options.indexOf(expected);
    expect(index, `"${expected}" among the suggestions for "${query}": ${options.join(" | ")}`).toBeGreaterThanOrEqual(0);
    for (let j = 0; j < index; j++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.locator(".similar-head em", { hasText: expected }).waitFor();
  }

  it("cross-origin isolated: trains on every core, finds Toy Story 2, recommends with reasons, compares models", async () => {
    const { page, errors, trainedAfter } = await open(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await page.getAttribute("body", "data-isolated")).toBe("true");
    expect(await page.textContent("#runtime-isolation")).toBe("Cross-origin isolated");
    expect(await page.getAttribute("#train-text", "data-threads")).toBe(String(cores));
    expect(await page.textContent("#runtime-threads")).toContain(`${cores} thread`);
    expect(await page.textContent("#data-summary")).toMatch(/610 people gave 100,836 ratings to 9,724 movies/);
    // One loss point per iteration, drawn.
    expect(await page.locator("#loss-chart circle").count()).toBe(15);
    const trainSeconds = Number(await page.getAttribute("#train-text", "data-seconds"));

    await searchAndChoose(page, "Toy Story", "Toy Story (1995)");
    const similar = await page.locator("#similar-list .title").allTextContents();
    expect(similar).toHaveLength(10);
    expect(similar).toContain("Toy Story 2 (1999)");

    const started = Date.now();
    for (const title of favourites) {
      await searchAndChoose(page, title.replace(/ \(\d{4}\)$/, ""), title);
      await page.click(".similar-head .heart");
    }
    expect(await page.locator("#favourite-list li span").allTextContents()).toEqual(favourites);
    await page.waitForFunction(() => document.querySelectorAll("#recommendations li .because").length === 10);
    const firstRecommendationsAfter = trainedAfter + (Date.now() - started);
    const recommendations = await page.locator("#recommendations > li").evaluateAll((items) => items.map((li) => ({
      title: li.querySelector(".title")?.textContent ?? "",
      because: Array.from(li.querySelectorAll(".because em"), (em) => em.textContent ?? ""),
    })));
    expect(recommendations).toHaveLength(10);
    for (const r of recommendations) {
      expect(favourites).not.toContain(r.title);
      expect(r.because.length).toBeGreaterThan(0);
      for (const reason of r.because) expect(favourites).toContain(reason);
    }
    expect(recommendations.map((r) => r.title)).toContain("Star Wars: Episode V - The Empire Strikes Back (1980)");

    await page.click("#run-evaluation");
    await page.waitForSelector("#evaluation-table", { timeout: 60_000 });
    const rows = await page.locator("#evaluation-table tbody tr").evaluateAll((trs) => trs.map((tr) => ({
      model: tr.querySelector("th strong")?.textContent ?? "",
      values: Array.from(tr.querySelectorAll("td .score"), (s) => Number(s.textContent)),
    })));
    expect(rows.map((r) => r.model)).toEqual(["ALS", "BPR", "Popularity"]);
    for (const r of rows) for (const v of r.values) expect(v).toBeGreaterThan(0);
    const [als, , popularity] = rows;
    expect(als.values[0]).toBeGreaterThan(popularity.values[0]);
    expect(als.values[1]).toBeGreaterThan(popularity.values[1]);
    const evaluationText = await page.textContent("#eval-text");
    expect(evaluationText).toMatch(/^Done in [\d.]+ s: 610 people evaluated/);

    await page.locator("#explore").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${shotDir}web-demo.png`, fullPage: true });
    console.log(`isolated, ${cores} threads: trained after ${trainedAfter} ms from opening the page (ALS ${trainSeconds.toFixed(2)} s); `
      + `five favourites picked by search and recommendations shown ${firstRecommendationsAfter} ms after opening; ${evaluationText}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("not isolated: the same demo on one thread", async () => {
    const { page, errors, trainedAfter } = await open(false);
    expect(await page.getAttribute("body", "data-isolated")).toBe("false");
    expect(await page.textContent("#runtime-isolation")).toBe("Not cross-origin isolated");
    expect(await page.getAttribute("#train-text", "data-threads")).toBe("1");
    expect(await page.textContent("#train-text")).toMatch(/on 1 thread:/);
    await searchAndChoose(page, "toy story", "Toy Story (1995)");
    expect(await page.locator("#similar-list .title").allTextContents()).toContain("Toy Story 2 (1999)");
    await page.click("#example-favourites");
    await page.waitForFunction(() => document.querySelectorAll("#recommendations li .because").length === 10);
    const trainSeconds = Number(await page.getAttribute("#train-text", "data-seconds"));
    console.log(`not isolated, 1 thread: trained after ${trainedAfter} ms from opening the page (ALS ${trainSeconds.toFixed(2)} s)`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it("a dropped file with a bad line: the page names file, line and column", async () => {
    const { page } = await open(true);
    const csv = "user,movie,rating\nalice,heat,4\nbob,heat,5\ncarol,alien,four\n";
    await page.setInputFiles("#file-input", { name: "my-ratings.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.waitForSelector("#mapping:not([hidden])");
    // 'four' under 'rating' makes the first row look like data to the sniffer: say it is a header.
    if (!(await page.isChecked("#map-header"))) {
      await page.check("#map-header");
      await page.waitForSelector("#map-preview th:has-text('rating')");
    }
    // The columns are then recognised from their names.
    expect(await page.inputValue("#map-user")).toBe("0");
    expect(await page.inputValue("#map-item")).toBe("1");
    expect(await page.inputValue("#map-value")).toBe("2");
    await page.click("#mapping button[type=submit]");
    const error = page.locator("#data-error");
    await error.waitFor({ state: "visible" });
    const where = await error.locator("dd").allTextContents();
    expect(where).toEqual(["my-ratings.csv", "4", "rating"]);
    expect(await error.locator(".message").textContent()).toBe("my-ratings.csv:4: rating: value 'four' is not a number");
    await page.close();
  }, 120_000);
});
