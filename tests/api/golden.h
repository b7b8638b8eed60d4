// A golden-file comparison for the api tests: the JSON and HTML the endpoints produce are
// compared byte for byte with files in tests/api/testdata, so that moving the code that builds
// them cannot change one byte unnoticed. NINES_UPDATE_GOLDEN=1 rewrites the files (then review
// the diff).
#ifndef NINES_TESTS_API_GOLDEN_H_
#define NINES_TESTS_API_GOLDEN_H_

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace nines::api::testing {

inline std::string GoldenPath(const std::string& name) {
  return std::string(NINES_API_TESTDATA) + "/" + name;
}

// Expects `actual` to equal the contents of testdata/`name`.
inline void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = GoldenPath(name);
  if (const char* update = std::getenv("NINES_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << actual;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "no golden file " << path << "; actual:\n" << actual;
  std::ostringstream want;
  want << in.rdbuf();
  EXPECT_EQ(actual, want.str()) << "differs from " << path;
}

}  // namespace nines::api::testing

#endif  // NINES_TESTS_API_GOLDEN_H_
