// What the C stand-ins for implicit (bench/implicit-*.c) share: a clock and allocation that
// fails loudly.
#ifndef EDGEREC_STAND_IN_H
#define EDGEREC_STAND_IN_H
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *allocate(size_t bytes, const char *what) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) { fprintf(stderr, "out of memory for %s (%zu bytes)\n", what, bytes); exit(1); }
  return p;
}
#endif
