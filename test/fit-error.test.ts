// Nothing lost in training: factors that overflow to NaN or infinity are a ModelFitError
// with advice, never a model that saves and serves NaN scores. Each case forces the
// overflow with options or values that reliably exceed float32 range.

import { describe, expect, it } from "vitest";
import { AlternatingLeastSquares, BayesianPersonalizedRanking, CsrMatrix, MatrixFactorization, ModelFitError } from "../src/index.js";
import { ModelFitError as CoreModelFitError } from "../src/core.js";
import { randomInteractions } from "./reference.js";

const matrix = (value: number) => CsrMatrix.fromCoo(randomInteractions(20, 15, 0.3, 3, () => value));

async function fitError(fit: Promise<void>): Promise<ModelFitError> {
  const error = await fit.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ModelFitError);
  return error as ModelFitError;
}

describe("ModelFitError", () => {
  it("is exported from edgerec and edgerec/core", () => {
    expect(CoreModelFitError).toBe(ModelFitError);
  });

  it("ALS: values near float32 max with regularization 0 overflow the confidences", async () => {
    const error = await fitError(new AlternatingLeastSquares({ factors: 4, iterations: 3, alpha: 1e3, regularization: 0 }).fit(matrix(3e38)));
    expect(error.message).toMatch(/^AlternatingLeastSquares\.fit: the user factors hold NaN \(user \d+\) after iteration 1: the fit overflowed\. Raise regularization \(now 0\), lower alpha \(now 1000\), and check the input values/);
    expect([error.model, error.iteration, error.side]).toEqual(["AlternatingLeastSquares", 1, "users"]);
    expect(Number.isNaN(error.value)).toBe(true);
  });

  it("ALS: a huge alpha overflows even ordinary values", async () => {
    const error = await fitError(new AlternatingLeastSquares({ factors: 4, iterations: 3, alpha: 1e38 }).fit(matrix(10)));
    expect(error.message).toMatch(/lower alpha \(now 1e\+38\)/);
  });

  it("ALS with the Cholesky solver: an overflow is a ModelFitError, not a regularization problem", async () => {
    const error = await fitError(new AlternatingLeastSquares({ factors: 4, iterations: 3, alpha: 1e38, solver: "cholesky" }).fit(matrix(10)));
    expect(error.message).toMatch(/^AlternatingLeastSquares\.fit: the least-squares system of user \d+: its Cholesky factorization failed after iteration 1: the fit overflowed\. Raise regularization/);
    expect([error.iteration, error.side]).toEqual([1, "users"]);
    // Without regularization the same failure is the classic advice.
    const noRegularization = new AlternatingLeastSquares({ factors: 8, iterations: 1, regularization: 0, solver: "cholesky" });
    await expect(noRegularization.fit(CsrMatrix.fromCoo({ rows: [0], cols: [0], values: [1], shape: [2, 2] }))).rejects.toThrow(/is not positive definite; use regularization > 0/);
  });

  it("BPR: a huge learning rate", async () => {
    const error = await fitError(new BayesianPersonalizedRanking({ factors: 4, iterations: 5, learningRate: 1e6, regularization: 0 }).fit(matrix(1)));
    expect(error.message).toMatch(/^BayesianPersonalizedRanking\.fit: the (user|item) factors hold (NaN|-?Infinity) .* Lower learningRate \(now 1000000\)/);
  });

  it("MF: a learning rate that diverges", async () => {
    const error = await fitError(new MatrixFactorization({ factors: 4, iterations: 3, learningRate: 10 }).fit(matrix(5)));
    expect(error.message).toMatch(/^MatrixFactorization\.fit: .* the fit overflowed\. Training diverged .* lower learningRate \(now 10\)/);
  });

  it("ordinary fits pass the check", async () => {
    await new AlternatingLeastSquares({ factors: 4, iterations: 3 }).fit(matrix(3));
    await new BayesianPersonalizedRanking({ factors: 4, iterations: 3 }).fit(matrix(1));
  });
});
