// FUZZ_CHECK for the fuzz targets: an invariant that does not hold is a crash libFuzzer reports
// (and saves the input of), with the condition and a message on stderr.
#ifndef NINES_FUZZ_FUZZ_CHECK_H_
#define NINES_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, msg)                                                           \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, __LINE__, #cond, \
                   (msg));                                                              \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#endif  // NINES_FUZZ_FUZZ_CHECK_H_
