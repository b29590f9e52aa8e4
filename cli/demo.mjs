// `edgerec demo`: MovieLens latest-small (shipped in demo-data/) through the whole path a
// user takes: read, train ALS, then similar movies, and recommendations with reasons for
// someone new who names five favourite movies.

import process from "node:process";
import { fileURLToPath } from "node:url";
import { NamedQueries } from "../dist/named-queries.js";
import { fitModel } from "./model-io.mjs";
import { score, table } from "./format.mjs";

const ratingsFile = fileURLToPath(new URL("../demo-data/ml-latest-small/ratings.csv.gz", import.meta.url));
const favourites = ["Star Wars: Episode IV - A New Hope", "Matrix, The", "Alien", "Terminator 2: Judgment Day", "Back to the Future"];

export async function runDemo({ quiet, print }) {
  print("edgerec demo: MovieLens latest-small (100,836 ratings by 610 users; GroupLens, see demo-data/README.md)\n");
  const { model, interactions, seconds } = await fitModel(ratingsFile, {
    dataset: { format: "movielens" },
    prepare: () => ({ confidence: "raw", kCore: 5 }),
    modelName: "als", model: { factors: 64, regularization: 0.05, iterations: 15, seed: 1, loss: true },
    quiet,
  });
  print(`Kept movies and users with at least 5 ratings (a 5-core): ${model.nUsers} users × ${model.nItems} movies, ${interactions} ratings.`);
  print("Trained ALS: 64 factors, 15 iterations, confidence = rating, seed 1.\n");
  // Timing goes to stderr: stdout is the same bytes on every runtime and every run.
  if (!quiet) process.stderr.write(`(trained in ${seconds.toFixed(1)}s)\n`);
  const queries = new NamedQueries(model);

  const similar = queries.similar("Toy Story", { n: 10 });
  print(`Movies most similar to ${similar.item}:`);
  print(table(["rank", "movie", "similarity", "genres"], similar.items.map((r, j) => [j + 1, r.label, score(r.score), r.info])));

  const forNewcomer = queries.recommendForLiked(favourites, { n: 10, explain: true });
  print(`\nA made-up user who liked ${forNewcomer.liked.join("; ")}\n(folded into the trained model, no retraining) gets:`);
  print(table(["rank", "movie", "score", "because you liked"],
    forNewcomer.items.map((r, j) => [j + 1, r.label, score(r.score), r.because.map((b) => `${b.label} ${b.score.toFixed(2)}`).join("; ")])));
  print("\nTry your own: npx edgerec fit ratings.csv, then npx edgerec recommend --liked \"Heat, Alien\" (edgerec --help).");
  return { similar, recommendations: forNewcomer };
}
