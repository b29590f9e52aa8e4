// A stand-in for implicit 0.7.3's CPU ALS fit with the CG solver, written in C from its
// published algorithm, so edgerec can be timed against it on the same machine in the same
// run (implicit's own figures come from another VM, and this one's speed drifts by 2×).
// It does what implicit's Cython does, call for call: OpenMP over rows with a guided
// schedule, and per row BLAS level-1 calls (sdot, saxpy, sscal) and one ssymv for each
// product with YᵀY + λI, through the reference machine's BLAS (Debian bookworm's OpenBLAS
// 0.3.21, held at one thread). It is not implicit: no Python, no numpy, no scipy around it.
//
// Per row u, with confidences c_ui (the matrix's values) and YtY = YᵀY + λI, 3 CG steps
// from the previous x (Hu et al. 2008's system, as implicit's least_squares_cg):
//   r = Σ_i (c⁺_ui − (c_ui − 1)(y_i·x)) y_i − YtY·x        (c⁺ = c when c > 0, else 0)
//   p = r; each step: Ap = YtY·p + Σ_i (c_ui − 1)(y_i·p) y_i,
//   α = r·r / p·Ap, x += αp, r −= αAp, p = r + (r·r)_new/(r·r)_old · p
//
//   gcc -O2 -fopenmp bench/implicit-cg.c -o implicit-cg -lopenblas
//   OPENBLAS_NUM_THREADS=1 ./implicit-cg MATRIX FACTORS ITERATIONS THREADS [REGULARIZATION] [CG_STEPS]
// MATRIX: "edgerec-csr-f32" (16 bytes), then i32 nRows, nCols, nnz, 0, then i32
// indptr[nRows + 1], i32 indices[nnz], f32 data[nnz] (little-endian; bench/implicit-cg.mjs
// writes it). Prints one JSON line: seconds per iteration and the training loss at the end.

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stand-in.h"

// The Fortran BLAS interface, as scipy's cython_blas hands it to implicit.
extern float sdot_(const int *n, const float *x, const int *incx, const float *y, const int *incy);
extern void saxpy_(const int *n, const float *a, const float *x, const int *incx, float *y, const int *incy);
extern void sscal_(const int *n, const float *a, float *x, const int *incx);
extern void ssymv_(const char *uplo, const int *n, const float *alpha, const float *a, const int *lda,
                   const float *x, const int *incx, const float *beta, float *y, const int *incy);
extern void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float *alpha,
                   const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c, const int *ldc);

typedef struct { int nRows, nCols; int64_t nnz; int32_t *indptr, *indices; float *data; } Csr;

static void readExactly(FILE *f, void *to, size_t bytes, const char *path, const char *what) {
  if (fread(to, 1, bytes, f) != bytes) { fprintf(stderr, "implicit-cg: %s: file ends inside %s\n", path, what); exit(1); }
}

static Csr readMatrix(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  char magic[16];
  int32_t header[4];
  readExactly(f, magic, 16, path, "the magic");
  if (memcmp(magic, "edgerec-csr-f32", 15) != 0) { fprintf(stderr, "implicit-cg: %s is not an edgerec-csr-f32 file\n", path); exit(1); }
  readExactly(f, header, sizeof header, path, "the header");
  Csr m = { header[0], header[1], header[2], 0, 0, 0 };
  m.indptr = allocate(sizeof(int32_t) * (m.nRows + 1), "indptr");
  m.indices = allocate(sizeof(int32_t) * m.nnz, "indices");
  m.data = allocate(sizeof(float) * m.nnz, "data");
  readExactly(f, m.indptr, sizeof(int32_t) * (m.nRows + 1), path, "indptr");
  readExactly(f, m.indices, sizeof(int32_t) * m.nnz, path, "indices");
  readExactly(f, m.data, sizeof(float) * m.nnz, path, "data");
  fclose(f);
  if (m.indptr[0] != 0 || m.indptr[m.nRows] != m.nnz) { fprintf(stderr, "implicit-cg: %s: indptr does not span nnz\n", path); exit(1); }
  for (int64_t e = 0; e < m.nnz; e++) if (m.indices[e] < 0 || m.indices[e] >= m.nCols) { fprintf(stderr, "implicit-cg: %s: index %lld out of range\n", path, (long long)e); exit(1); }
  return m;
}

// Cui.T.tocsr(): counting sort by column, rows ascending within each column.
static Csr transpose(const Csr *m) {
  Csr t = { m->nCols, m->nRows, m->nnz, 0, 0, 0 };
  t.indptr = allocate(sizeof(int32_t) * (t.nRows + 1), "transposed indptr");
  memset(t.indptr, 0, sizeof(int32_t) * (t.nRows + 1));
  t.indices = allocate(sizeof(int32_t) * t.nnz, "transposed indices");
  t.data = allocate(sizeof(float) * t.nnz, "transposed data");
  for (int64_t e = 0; e < m->nnz; e++) t.indptr[m->indices[e] + 1]++;
  for (int c = 0; c < t.nRows; c++) t.indptr[c + 1] += t.indptr[c];
  int32_t *next = allocate(sizeof(int32_t) * t.nRows, "cursors");
  memcpy(next, t.indptr, sizeof(int32_t) * t.nRows);
  for (int r = 0; r < m->nRows; r++)
    for (int32_t e = m->indptr[r]; e < m->indptr[r + 1]; e++) {
      int32_t at = next[m->indices[e]]++;
      t.indices[at] = r;
      t.data[at] = m->data[e];
    }
  free(next);
  return t;
}

// YtY = YᵀY + λI (numpy's np.dot(Y.T, Y): one sgemm; row-major Y is column-major Yᵀ).
static void gram(const float *y, int nRows, int k, float regularization, float *ytY) {
  const float one = 1, zero = 0;
  sgemm_("N", "T", &k, &k, &nRows, &one, y, &k, y, &k, &zero, ytY, &k);
  for (int i = 0; i < k; i++) ytY[i * k + i] += regularization;
}

// One half-step: every row of `m` solved for x against the fixed y, cgSteps CG steps each.
static void leastSquaresCg(const Csr *m, float *x, const float *y, int k, float regularization, int threads, int cgSteps, float *ytY) {
  gram(y, m->nCols, k, regularization, ytY);
  const int one = 1;
  const float zero = 0;
#pragma omp parallel num_threads(threads)
  {
    float *ap = allocate(sizeof(float) * k, "Ap"), *p = allocate(sizeof(float) * k, "p"), *r = allocate(sizeof(float) * k, "r");
#pragma omp for schedule(guided)
    for (int u = 0; u < m->nRows; u++) {
      float *xu = x + (size_t)u * k;
      if (m->indptr[u] == m->indptr[u + 1]) { memset(xu, 0, sizeof(float) * k); continue; }
      float temp = -1;
      ssymv_("U", &k, &temp, ytY, &k, xu, &one, &zero, r, &one);
      for (int32_t e = m->indptr[u]; e < m->indptr[u + 1]; e++) {
        const float *yi = y + (size_t)m->indices[e] * k;
        float confidence = m->data[e];
        float positive = confidence > 0 ? confidence : 0;
        if (confidence < 0) confidence = -confidence;
        temp = positive - (confidence - 1) * sdot_(&k, yi, &one, xu, &one);
        saxpy_(&k, &temp, yi, &one, r, &one);
      }
      memcpy(p, r, sizeof(float) * k);
      float rsOld = sdot_(&k, r, &one, r, &one);
      if (rsOld < 1e-20f) continue;
      for (int step = 0; step < cgSteps; step++) {
        temp = 1;
        ssymv_("U", &k, &temp, ytY, &k, p, &one, &zero, ap, &one);
        for (int32_t e = m->indptr[u]; e < m->indptr[u + 1]; e++) {
          const float *yi = y + (size_t)m->indices[e] * k;
          float confidence = m->data[e];
          if (confidence < 0) confidence = -confidence;
          temp = (confidence - 1) * sdot_(&k, yi, &one, p, &one);
          saxpy_(&k, &temp, yi, &one, ap, &one);
        }
        float alpha = rsOld / sdot_(&k, p, &one, ap, &one);
        saxpy_(&k, &alpha, p, &one, xu, &one);
        temp = -alpha;
        saxpy_(&k, &temp, ap, &one, r, &one);
        float rsNew = sdot_(&k, r, &one, r, &one);
        if (rsNew < 1e-20f) break;
        temp = rsNew / rsOld;
        sscal_(&k, &temp, p, &one);
        temp = 1;
        saxpy_(&k, &temp, r, &one, p, &one);
        rsOld = rsNew;
      }
    }
    free(ap); free(p); free(r);
  }
}

// implicit's calculate_loss: (Σ_u [xᵀ(YᵀC_uY)x − 2 xᵀYᵀC_u p_u + Σ c] + λ(‖X‖² + ‖Y‖²)) / (Σ c + nRows·nCols − nnz).
static double trainingLoss(const Csr *m, const float *x, const float *y, int k, float regularization) {
  double loss = 0, totalConfidence = 0, norms = 0;
  float *ytY = allocate(sizeof(float) * k * k, "YtY"), *r = allocate(sizeof(float) * k, "r");
  gram(y, m->nCols, k, 0, ytY);
  const int one = 1;
  const float unit = 1, zero = 0;
  for (int u = 0; u < m->nRows; u++) {
    const float *xu = x + (size_t)u * k;
    ssymv_("U", &k, &unit, ytY, &k, xu, &one, &zero, r, &one);
    for (int32_t e = m->indptr[u]; e < m->indptr[u + 1]; e++) {
      const float *yi = y + (size_t)m->indices[e] * k;
      float confidence = m->data[e];
      float temp = confidence > 0 ? -2 * confidence : 0;
      if (confidence < 0) confidence = -confidence;
      temp += (confidence - 1) * sdot_(&k, yi, &one, xu, &one);
      saxpy_(&k, &temp, yi, &one, r, &one);
      totalConfidence += confidence;
      loss += confidence;
    }
    loss += sdot_(&k, r, &one, xu, &one);
    norms += sdot_(&k, xu, &one, xu, &one);
  }
  for (int i = 0; i < m->nCols; i++) norms += sdot_(&k, y + (size_t)i * k, &one, y + (size_t)i * k, &one);
  free(ytY); free(r);
  return (loss + regularization * norms) / (totalConfidence + (double)m->nRows * m->nCols - m->nnz);
}

// Uniform [0, 0.01) as implicit's random((n, factors)) * 0.01, from a fixed xorshift64*.
static void initialFactors(float *f, size_t count, uint64_t seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < count; i++) {
    s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
    f[i] = (float)((s * 0x2545F4914F6CDD1Dull) >> 40) / 16777216.0f * 0.01f;
  }
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: implicit-cg MATRIX FACTORS ITERATIONS THREADS [REGULARIZATION] [CG_STEPS]\n"); return 2; }
  const int k = atoi(argv[2]), iterations = atoi(argv[3]), threads = atoi(argv[4]);
  const float regularization = argc > 5 ? (float)atof(argv[5]) : 0.01f;
  const int cgSteps = argc > 6 ? atoi(argv[6]) : 3;
  if (k < 1 || iterations < 1 || threads < 1 || cgSteps < 1) { fprintf(stderr, "implicit-cg: factors, iterations, threads and cg steps must be positive\n"); return 2; }
  Csr userItems = readMatrix(argv[1]);
  double started = now();
  Csr itemUsers = transpose(&userItems);
  double transposeSeconds = now() - started;
  float *userFactors = allocate(sizeof(float) * userItems.nRows * k, "user factors");
  float *itemFactors = allocate(sizeof(float) * userItems.nCols * k, "item factors");
  float *ytY = allocate(sizeof(float) * k * k, "YtY");
  initialFactors(userFactors, (size_t)userItems.nRows * k, 1);
  initialFactors(itemFactors, (size_t)userItems.nCols * k, 2);
  printf("{\"factors\":%d,\"threads\":%d,\"users\":%d,\"items\":%d,\"nnz\":%lld,\"transposeSeconds\":%.3f,\"iterationSeconds\":[",
         k, threads, userItems.nRows, userItems.nCols, (long long)userItems.nnz, transposeSeconds);
  for (int it = 0; it < iterations; it++) {
    double t = now();
    leastSquaresCg(&userItems, userFactors, itemFactors, k, regularization, threads, cgSteps, ytY);
    leastSquaresCg(&itemUsers, itemFactors, userFactors, k, regularization, threads, cgSteps, ytY);
    printf("%s%.3f", it ? "," : "", now() - t);
    fflush(stdout);
  }
  printf("],\"loss\":%.9g}\n", trainingLoss(&userItems, userFactors, itemFactors, k, regularization));
  return 0;
}
