// edgerec in an edge worker (Cloudflare Workers module format, run by workerd): a trained
// ALS model embedded in the worker answers "similar items" and "recommendations for
// someone new from the items they like" as JSON, with no server and no retraining.
//
// The two non-JS imports are modules of the deployed worker, not files read at runtime:
// Workers forbid compiling WebAssembly from bytes, so the engine arrives as a compiled
// WebAssembly.Module (a wasm module), and the model file as an ArrayBuffer (a data module).
// build.mjs puts both beside the bundled worker under these names; config.capnp (workerd)
// and wrangler.toml (Cloudflare) declare them.
import { AlternatingLeastSquares, NamedQueries, UnknownNameError, initEngine } from "edgerec/core";
import engineModule from "./edgerec.wasm";
import modelFile from "./movielens-small.edgerec";

// The most items one request may ask for (n), and the most liked items it may name. Not
// exported: workerd takes every export of the main module for an entrypoint.
const MAX_N = 100;
const MAX_LIKED = 50;
const DEFAULT_N = 10;

// Loading the engine and the model takes tens of milliseconds, and Workers forbid this kind
// of work at global scope, so it happens on the first request. The promise is kept so that
// later (and concurrent) requests in this isolate share one engine and one model; a failure
// is forgotten so that the next request tries again instead of failing forever.
let queriesPromise;
function namedQueries() {
  queriesPromise ??= (async () => {
    await initEngine(engineModule);
    const model = AlternatingLeastSquares.load(new Uint8Array(modelFile));
    return new NamedQueries(model);
  })().catch((error) => {
    queriesPromise = undefined;
    throw error;
  });
  return queriesPromise;
}

const ENDPOINTS = {
  "GET /recommend?liked=TITLE&liked=TITLE&n=10":
    "Recommendations for someone new who liked these movies, folded into the model without retraining; each with the liked movies that explain it most (because). " +
    "Give each title as its own liked= parameter (titles may contain commas, e.g. 'Matrix, The'), or several in one separated by '|' or ','. " +
    "Titles are matched forgivingly: case, accents and punctuation do not matter, the year is optional, 'The Matrix' finds 'Matrix, The (1999)'.",
  "GET /similar?item=TITLE&n=10": "The movies most similar to one movie (cosine of the item factors).",
};

export default {
  async fetch(request) {
    try {
      return await route(request);
    } catch (error) {
      if (error instanceof RequestError) return json(error.status, { error: error.message, ...error.details });
      if (error instanceof UnknownNameError) {
        return json(404, { error: error.message, code: "unknown_item", item: error.query, suggestions: error.suggestions });
      }
      console.error(error);
      return json(500, { error: `internal error: ${error?.message ?? error}`, code: "internal" });
    }
  },
};

async function route(request) {
  const url = new URL(request.url);
  if (!["/", "/recommend", "/similar"].includes(url.pathname)) {
    throw new RequestError(404, `no endpoint ${url.pathname}: try /recommend or /similar`, { code: "not_found", endpoints: ENDPOINTS });
  }
  if (request.method !== "GET") {
    const response = json(405, { error: `method ${request.method} is not allowed: use GET`, code: "method_not_allowed" });
    response.headers.set("allow", "GET");
    return response;
  }
  if (url.pathname === "/") {
    return json(200, { name: "edgerec edge worker", model: "ALS, MovieLens latest-small (ratings by 610 users, 5-core)", endpoints: ENDPOINTS });
  }
  const n = parseN(url.searchParams);
  if (url.pathname === "/similar") {
    const item = url.searchParams.get("item")?.trim();
    if (!item) throw new RequestError(400, "missing parameter item: /similar?item=Toy%20Story", { code: "missing_parameter", parameter: "item" });
    const queries = await namedQueries();
    const answer = queries.similar(item, { n });
    return json(200, { item: answer.item, notes: answer.notes, items: answer.items.map(describeItem) });
  }
  const liked = likedTitles(url.searchParams);
  const queries = await namedQueries();
  // findItems splits on commas too, joining pieces back when they only match together
  // ("Matrix", "The" → "Matrix, The"), and fails on the first unknown title. Each liked
  // item costs work in every explanation, so the number of them is bounded.
  const likedCount = queries.findItems(liked).length;
  if (likedCount > MAX_LIKED) {
    throw new RequestError(400, `too many liked items: ${likedCount}, at most ${MAX_LIKED}`, { code: "invalid_parameter", parameter: "liked" });
  }
  const answer = queries.recommendForLiked(liked, { n, explain: true });
  return json(200, { liked: answer.liked, notes: answer.notes, items: answer.items.map(describeItem) });
}

/** The titles of all liked= parameters, split on '|' (which no title contains), blanks dropped. */
function likedTitles(params) {
  const titles = params.getAll("liked").flatMap((value) => value.split("|")).map((title) => title.trim()).filter(Boolean);
  if (titles.length === 0) {
    throw new RequestError(400, "missing parameter liked: /recommend?liked=Alien&liked=Heat (one title per liked=, or several separated by '|')", { code: "missing_parameter", parameter: "liked" });
  }
  return titles;
}

/** n: how many items to return, a whole number from 1 to MAX_N (default DEFAULT_N). */
function parseN(params) {
  const raw = params.get("n");
  if (raw === null) return DEFAULT_N;
  // Digits only: Number() would accept "1e1", " 5", "0x10" and "".
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_N) {
    throw new RequestError(400, `n must be a whole number from 1 to ${MAX_N}, not '${raw}'`, { code: "invalid_parameter", parameter: "n" });
  }
  return Number(raw);
}

function describeItem(item) {
  const described = { id: item.key, title: item.label, score: round(item.score) };
  if (item.info !== undefined) described.genres = item.info;
  if (item.because) described.because = item.because.map((liked) => ({ id: liked.key, title: liked.label, score: round(liked.score) }));
  return described;
}

// Scores are float32: four decimals say all they mean and keep the JSON short.
const round = (score) => Math.round(score * 1e4) / 1e4;

function json(status, body) {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "access-control-allow-origin": "*" },
  });
}

/** A request the worker refuses, with its HTTP status and extra fields for the JSON body. */
class RequestError extends Error {
  constructor(status, message, details = {}) {
    super(message);
    this.status = status;
    this.details = details;
  }
}
