// A stand-in for implicit 0.7.3's batch queries on the CPU, written in C from its published
// algorithm, to time edgerec's recommend and similar items against on the same machine in
// the same run. As implicit's topk: queries in batches of 100, each batch scored against
// every item by one sgemm (numpy's query.dot(items.T)), liked items set to −FLT_MAX
// (recommend) or scores divided by the item norms (similar items), then a k-sized heap per
// row over every score; batches spread over OpenMP threads with a guided schedule, BLAS at
// one thread. Unlike implicit it never holds a Python GIL around a batch's filtering, so it
// is if anything faster than implicit.
//
//   gcc -O2 -fopenmp bench/implicit-topk.c -o implicit-topk -lopenblas
//   OPENBLAS_NUM_THREADS=1 ./implicit-topk MATRIX FACTORS USERS THREADS [N]
// MATRIX: the users × items matrix whose liked items recommend filters (bench/csr-file.mjs).
// FACTORS: "edgerec-factors" and a NUL (16 bytes), i32 nUsers, nItems, k, 0, then f32 user
// factors, f32 item factors, row-major. USERS: how many users, spread evenly over the ids as
// bench/recommend.mjs samples them. Prints one JSON line: users/s and items/s (every item).

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stand-in.h"

extern void sgemm_(const char *ta, const char *tb, const int *m, const int *n, const int *k, const float *alpha,
                   const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c, const int *ldc);

enum { BATCH = 100 };

static FILE *openWithMagic(const char *path, const char *magic, int32_t header[4]) {
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  char found[16];
  if (fread(found, 1, 16, f) != 16 || memcmp(found, magic, strlen(magic)) != 0 || fread(header, 4, 4, f) != 4) {
    fprintf(stderr, "implicit-topk: %s is not an %s file\n", path, magic);
    exit(1);
  }
  return f;
}

static void readArray(FILE *f, void *to, size_t bytes, const char *path) {
  if (fread(to, 1, bytes, f) != bytes) { fprintf(stderr, "implicit-topk: %s ends early\n", path); exit(1); }
}

// Keeps the k best (score, id) seen in a min-heap whose root is the worst kept; a score
// enters only when it beats the root, as implicit's select.
typedef struct { float score; int id; } Scored;

static void siftDown(Scored *heap, int size, int at) {
  for (;;) {
    int child = 2 * at + 1;
    if (child >= size) return;
    if (child + 1 < size && heap[child + 1].score < heap[child].score) child++;
    if (heap[at].score <= heap[child].score) return;
    Scored swap = heap[at]; heap[at] = heap[child]; heap[child] = swap;
    at = child;
  }
}

static void selectTop(const float *scores, int n, int k, Scored *heap, int *ids, float *best) {
  int size = 0;
  for (int col = 0; col < n; col++) {
    float score = scores[col];
    if (size < k) {
      int at = size++;
      heap[at] = (Scored){ score, col };
      while (at > 0 && heap[(at - 1) / 2].score > heap[at].score) {
        Scored swap = heap[at]; heap[at] = heap[(at - 1) / 2]; heap[(at - 1) / 2] = swap;
        at = (at - 1) / 2;
      }
    } else if (score > heap[0].score) {
      heap[0] = (Scored){ score, col };
      siftDown(heap, size, 0);
    }
  }
  // Best first: pop the worst to the back.
  for (int last = size - 1; last >= 0; last--) {
    ids[last] = heap[0].id;
    best[last] = heap[0].score;
    heap[0] = heap[last];
    siftDown(heap, last, 0);
  }
}

// Scores rows [first, first + rows) of `queries` (ids in `queryIds`) against every item:
// scores[r][i] = q_r · y_i.
static void scoreBatch(const float *factors, const int *queryIds, int rows, const float *items, int nItems, int k, float *queryRows, float *scores) {
  for (int r = 0; r < rows; r++) memcpy(queryRows + (size_t)r * k, factors + (size_t)queryIds[r] * k, sizeof(float) * k);
  const float one = 1, zero = 0;
  sgemm_("T", "N", &nItems, &rows, &k, &one, items, &k, queryRows, &k, &zero, scores, &nItems);
}

// The n best items for each of `count` queries (rows `queryIds` of `queryFactors`), 100 at a
// time over OpenMP threads: with `indptr`, a query's items in that matrix row are filtered
// (recommend); with `norms`, scores are divided by the items' norms and the n best then by the
// query's own (similar items). Returns the sum of the best ids, to compare answers.
static int64_t topForEach(const float *queryFactors, const int *queryIds, int count, const float *items, int nItems, int k, int n, int threads,
                          const int32_t *indptr, const int32_t *indices, const float *norms, int *ids, float *best) {
  int64_t checksum = 0;
  const int batches = (count + BATCH - 1) / BATCH;
#pragma omp parallel num_threads(threads) reduction(+ : checksum)
  {
    float *scores = allocate(sizeof(float) * BATCH * nItems, "a batch's scores"), *queryRows = allocate(sizeof(float) * BATCH * k, "queries");
    Scored *heap = allocate(sizeof(Scored) * n, "heap");
#pragma omp for schedule(guided)
    for (int batch = 0; batch < batches; batch++) {
      const int first = batch * BATCH, rows = count - first < BATCH ? count - first : BATCH;
      scoreBatch(queryFactors, queryIds + first, rows, items, nItems, k, queryRows, scores);
      for (int r = 0; r < rows; r++) {
        float *row = scores + (size_t)r * nItems, *top = best + (size_t)(first + r) * n;
        const int query = queryIds[first + r];
        if (indptr) for (int32_t e = indptr[query]; e < indptr[query + 1]; e++) row[indices[e]] = -FLT_MAX;
        if (norms) for (int i = 0; i < nItems; i++) row[i] /= norms[i];
        selectTop(row, nItems, n, heap, ids + (size_t)(first + r) * n, top);
        if (norms) for (int j = 0; j < n; j++) top[j] /= norms[query];
        checksum += ids[(size_t)(first + r) * n];
      }
    }
    free(scores); free(queryRows); free(heap);
  }
  return checksum;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: implicit-topk MATRIX FACTORS USERS THREADS [N]\n"); return 2; }
  const int threads = atoi(argv[4]), n = argc > 5 ? atoi(argv[5]) : 10;
  int32_t h[4];
  FILE *f = openWithMagic(argv[1], "edgerec-csr-f32", h);
  const int nRows = h[0];
  const int64_t nnz = h[2];
  int32_t *indptr = allocate(sizeof(int32_t) * (nRows + 1), "indptr"), *indices = allocate(sizeof(int32_t) * nnz, "indices");
  readArray(f, indptr, sizeof(int32_t) * (nRows + 1), argv[1]);
  readArray(f, indices, sizeof(int32_t) * nnz, argv[1]);
  fclose(f);
  f = openWithMagic(argv[2], "edgerec-factors", h);
  const int nUsers = h[0], nItems = h[1], k = h[2];
  if (nUsers != nRows) { fprintf(stderr, "implicit-topk: %d users in the factors, %d in the matrix\n", nUsers, nRows); return 1; }
  float *userFactors = allocate(sizeof(float) * nUsers * k, "user factors"), *itemFactors = allocate(sizeof(float) * nItems * k, "item factors");
  readArray(f, userFactors, sizeof(float) * nUsers * k, argv[2]);
  readArray(f, itemFactors, sizeof(float) * nItems * k, argv[2]);
  fclose(f);
  const int count = atoi(argv[3]) < nUsers ? atoi(argv[3]) : nUsers;
  int *users = allocate(sizeof(int) * count, "users"), *allItems = allocate(sizeof(int) * nItems, "items");
  for (int j = 0; j < count; j++) users[j] = (int)(((int64_t)j * nUsers) / count);
  for (int i = 0; i < nItems; i++) allItems[i] = i;
  int *ids = allocate(sizeof(int) * (size_t)(count > nItems ? count : nItems) * n, "ids");
  float *best = allocate(sizeof(float) * (size_t)(count > nItems ? count : nItems) * n, "scores");
  float *norms = allocate(sizeof(float) * nItems, "norms");
  int64_t checksum = 0;

  // recommend(users, user_items, N, filter_already_liked_items=True)
  double started = now();
  checksum += topForEach(userFactors, users, count, itemFactors, nItems, k, n, threads, indptr, indices, NULL, ids, best);
  const double recommendSeconds = now() - started;
  // similar_items(every item, N): scores divided by the item norms (0 → 1e-10), the N best
  // then by the query's norm.
  started = now();
  for (int i = 0; i < nItems; i++) {
    double s = 0;
    for (int j = 0; j < k; j++) s += (double)itemFactors[(size_t)i * k + j] * itemFactors[(size_t)i * k + j];
    norms[i] = s > 0 ? (float)sqrt(s) : 1e-10f;
  }
  checksum += topForEach(itemFactors, allItems, nItems, itemFactors, nItems, k, n, threads, NULL, NULL, norms, ids, best);
  const double similarSeconds = now() - started;
  printf("{\"factors\":%d,\"threads\":%d,\"users\":%d,\"items\":%d,\"recommendSeconds\":%.3f,\"similarSeconds\":%.3f,"
         "\"recommendUsersPerSecond\":%.1f,\"similarItemsPerSecond\":%.1f,\"checksum\":%lld}\n",
         k, threads, count, nItems, recommendSeconds, similarSeconds, count / recommendSeconds, nItems / similarSeconds, (long long)checksum);
  return 0;
}
