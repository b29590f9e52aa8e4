// A stand-in for implicit 0.7.3's CPU BPR epoch, written in C++ from its published algorithm
// (implicit compiles its BPR loop as C++ through Cython), to time edgerec's BPR against on
// the same machine. As implicit's bpr_update: an epoch draws nnz samples over OpenMP threads
// (static schedule, Hogwild: no locks), each thread with its own std::mt19937 and
// uniform_int_distribution over the entries; a sample takes one entry (user, liked item) and
// a random entry's item as the negative, skipped when the user liked it too (binary search
// in the user's sorted row), and updates with the logistic gradient of x_u·(y_i − y_j),
// the factors' last column being the item bias (users hold 1 there):
//   z = 1 / (1 + exp(x_u·(y_i − y_j)))
//   x_u += lr (z (y_i − y_j) − reg x_u),  y_i += lr (z x_u − reg y_i),  y_j += lr (−z x_u − reg y_j)
//
//   g++ -O2 -fopenmp bench/implicit-bpr.cpp -o implicit-bpr
//   ./implicit-bpr MATRIX FACTORS EPOCHS THREADS
// MATRIX: the users × items matrix (bench/csr-file.mjs; values ignored, as implicit's BPR).
// Prints one JSON line: seconds of each epoch and the last epoch's training AUC.

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

extern "C" {
#include "stand-in.h"
}

int main(int argc, char **argv) {
  if (argc < 5) { std::fprintf(stderr, "usage: implicit-bpr MATRIX FACTORS EPOCHS THREADS\n"); return 2; }
  const int factors = std::atoi(argv[2]), epochs = std::atoi(argv[3]), threads = std::atoi(argv[4]);
  FILE *f = std::fopen(argv[1], "rb");
  char magic[16];
  int32_t header[4];
  if (!f || std::fread(magic, 1, 16, f) != 16 || std::memcmp(magic, "edgerec-csr-f32", 15) != 0 || std::fread(header, 4, 4, f) != 4) {
    std::fprintf(stderr, "implicit-bpr: %s is not an edgerec-csr-f32 file\n", argv[1]);
    return 1;
  }
  const int users = header[0], items = header[1];
  const long samples = header[2];
  std::vector<int32_t> indptr(users + 1), indices(samples);
  if (std::fread(indptr.data(), 4, users + 1, f) != (size_t)users + 1 || std::fread(indices.data(), 4, samples, f) != (size_t)samples) {
    std::fprintf(stderr, "implicit-bpr: %s ends early\n", argv[1]);
    return 1;
  }
  std::fclose(f);
  // userids: each entry's row, as implicit's np.repeat(arange(users), counts).
  std::vector<int32_t> userids(samples);
  for (int u = 0; u < users; u++) for (int32_t e = indptr[u]; e < indptr[u + 1]; e++) userids[e] = u;
  // (rand − 0.5) / factors, one more column for the bias (users hold 1 there).
  const int width = factors + 1;
  std::vector<float> x((size_t)users * width), y((size_t)items * width);
  std::mt19937 init(1);
  std::uniform_real_distribution<float> unit(0, 1);
  for (auto &v : x) v = (unit(init) - 0.5f) / factors;
  for (auto &v : y) v = (unit(init) - 0.5f) / factors;
  for (int u = 0; u < users; u++) x[(size_t)u * width + factors] = 1;
  std::vector<std::mt19937> rngs;
  std::vector<std::uniform_int_distribution<long>> draws;
  for (int t = 0; t < threads; t++) { rngs.emplace_back(1234 + t); draws.emplace_back(0, samples - 1); }
  const float learningRate = 0.01f, reg = 0.01f;
  std::printf("{\"factors\":%d,\"threads\":%d,\"users\":%d,\"items\":%d,\"nnz\":%ld,\"epochSeconds\":[", factors, threads, users, items, samples);
  long correct = 0, skipped = 0;
  for (int epoch = 0; epoch < epochs; epoch++) {
    const double started = now();
    correct = 0; skipped = 0;
#pragma omp parallel num_threads(threads) reduction(+ : correct, skipped)
    {
      const int thread = omp_get_thread_num();
#pragma omp for schedule(static)
      for (long i = 0; i < samples; i++) {
        const long likedIndex = draws[thread](rngs[thread]);
        const int32_t liked = indices[likedIndex];
        const long dislikedIndex = draws[thread](rngs[thread]);
        const int32_t disliked = indices[dislikedIndex];
        const int32_t user = userids[likedIndex];
        if (std::binary_search(&indices[indptr[user]], &indices[indptr[user + 1]], disliked)) { skipped++; continue; }
        float *xu = &x[(size_t)user * width], *yi = &y[(size_t)liked * width], *yj = &y[(size_t)disliked * width];
        float score = 0;
        for (int j = 0; j < width; j++) score += xu[j] * (yi[j] - yj[j]);
        const float z = 1.0 / (1.0 + std::exp((double)score)); // libc's exp, in double, as implicit's
        if (z < 0.5f) correct++;
        for (int j = 0; j < factors; j++) {
          const float xj = xu[j];
          xu[j] += learningRate * (z * (yi[j] - yj[j]) - reg * xu[j]);
          yi[j] += learningRate * (z * xj - reg * yi[j]);
          yj[j] += learningRate * (-z * xj - reg * yj[j]);
        }
        yi[factors] += learningRate * (z - reg * yi[factors]);
        yj[factors] += learningRate * (-z - reg * yj[factors]);
      }
    }
    std::printf("%s%.3f", epoch ? "," : "", now() - started);
    std::fflush(stdout);
  }
  std::printf("],\"auc\":%.4f,\"skipped\":%ld}\n", (double)correct / (samples - skipped), skipped);
  return 0;
}
