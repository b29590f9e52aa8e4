// A first model in a dozen lines: who likes which movie, an ALS fit, and the three
// questions a recommender answers. Run with `npm run example`.
import { AlternatingLeastSquares, CsrMatrix } from "edgerec";

const movies = ["Toy Story", "Finding Nemo", "Up", "Alien", "Aliens", "The Thing", "Heat", "Ronin"];
// users × movies: 1 = watched. Three taste groups: family, sci-fi horror, heist.
const watched = [
  [1, 1, 1, 0, 0, 0, 0, 0],
  [1, 1, 0, 0, 0, 0, 0, 0],
  [0, 1, 1, 0, 0, 0, 0, 1],
  [0, 0, 0, 1, 1, 1, 0, 0],
  [0, 0, 0, 1, 1, 0, 0, 0],
  [0, 0, 0, 0, 1, 1, 1, 0],
  [0, 0, 0, 0, 0, 0, 1, 1],
  [0, 0, 0, 0, 0, 1, 1, 1],
  [1, 0, 1, 0, 0, 0, 0, 0],
];
const userItems = CsrMatrix.fromDense(watched);

const model = new AlternatingLeastSquares({ factors: 4, regularization: 0.05, iterations: 20, seed: 1, calculateTrainingLoss: true });
await model.fit(userItems, {
  onIteration: ({ iteration, iterations, loss }) => { if (iteration % 5 === 0) console.log(`iteration ${iteration}/${iterations}  loss ${loss.toFixed(5)}`); },
});

const show = ({ ids, scores }) => Array.from(ids, (id, j) => `${movies[id]} (${scores[j].toFixed(3)})`).join(", ");
console.log("\nUser 1 has watched:", Array.from(userItems.row(1).indices, (i) => movies[i]).join(", "));
console.log("Recommended for user 1:", show(model.recommend(1, userItems, { n: 3 })));
console.log("Similar to Alien:", show(model.similarItems(3, { n: 3 })));

const why = model.explain(1, userItems, model.recommend(1, userItems, { n: 1 }).ids[0]);
console.log(`Why: score ${why.score.toFixed(3)} =`, show(why.contributions).replaceAll(", ", " + "));

// Someone new: folded in from two favourites, no retraining.
const newcomer = model.recalculateUser([6, 7]);
console.log("A newcomer who liked Heat and Ronin gets:", show(model.recommend(newcomer, [6, 7], { n: 3 })));
