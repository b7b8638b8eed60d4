#include "collector/exposition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace nines::collector {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = fs::path(NINES_COLLECTOR_TESTDATA) / "exposition";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> PromFilesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCorpus / dir)) {
    if (entry.path().extension() == ".prom") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// The stable text form of a parse that the goldens hold: the families, then one line per sample
// with its family when the family's name is not the sample's.
std::string Render(const Exposition& e) {
  std::string out;
  for (const MetricFamily& f : e.families) {
    out += fmt::format("family {} {}", f.name, MetricTypeName(f.type));
    if (!f.has_type) out += " (no TYPE line)";
    if (f.has_help) {
      out += " help=\"";
      core::AppendEscapedLabelValue(&out, f.help);
      out += '"';
    }
    out += '\n';
  }
  for (const ExpositionSample& s : e.samples) {
    out += fmt::format("{} {}", s.labels.ToString(), FormatValue(s.value));
    if (s.timestamp_ms) out += fmt::format(" @{}", *s.timestamp_ms);
    if (e.FamilyOf(s).name != s.labels.MetricName()) out += " family=" + e.FamilyOf(s).name;
    out += '\n';
  }
  return out;
}

std::string Golden(const std::string& dir, const std::string& name, const std::string& ext) {
  return (kCorpus / dir / (name.substr(0, name.size() - 5) + ext)).string();
}

// NINES_UPDATE_GOLDEN=1 rewrites the goldens (then review the diff).
TEST(ExpositionGoldenTest, EveryValidFileParsesToItsGolden) {
  std::vector<std::string> names = PromFilesIn("valid");
  ASSERT_GE(names.size(), 8u);
  const bool update = std::getenv("NINES_UPDATE_GOLDEN") != nullptr;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    core::Result<Exposition> e = ParseExposition(ReadFile(kCorpus / "valid" / name));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    const std::string golden = Golden("valid", name, ".golden");
    if (update) {
      std::ofstream(golden, std::ios::binary) << Render(*e);
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << "missing golden " << golden;
    EXPECT_EQ(Render(*e), ReadFile(golden));
  }
}

TEST(ExpositionGoldenTest, EveryInvalidFileFailsWithItsGoldenError) {
  std::vector<std::string> names = PromFilesIn("invalid");
  ASSERT_GE(names.size(), 40u);
  const bool update = std::getenv("NINES_UPDATE_GOLDEN") != nullptr;
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    core::Result<Exposition> e = ParseExposition(ReadFile(kCorpus / "invalid" / name));
    ASSERT_FALSE(e.ok()) << "an invalid case must fail";
    EXPECT_EQ(e.status().code(), core::StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message().rfind("line ", 0), 0u) << "errors start with the line";
    const std::string golden = Golden("invalid", name, ".error");
    if (update) {
      std::ofstream(golden, std::ios::binary) << e.status().message() << '\n';
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << "missing golden " << golden;
    EXPECT_EQ(e.status().message() + "\n", ReadFile(golden));
  }
}

TEST(ExpositionGoldenTest, RealPagesHavePlausibleFamilies) {
  core::Result<Exposition> prom = ParseExposition(ReadFile(kCorpus / "valid/prometheus_2_42.prom"));
  ASSERT_TRUE(prom.ok()) << prom.status().ToString();
  EXPECT_GE(prom->families.size(), 100u);
  int typed = 0;
  for (const MetricFamily& f : prom->families) typed += f.has_type && f.has_help;
  EXPECT_EQ(typed, static_cast<int>(prom->families.size())) << "Prometheus types every family";
  auto family = [&](const Exposition& e, std::string_view name) -> const MetricFamily* {
    for (const MetricFamily& f : e.families) {
      if (f.name == name) return &f;
    }
    return nullptr;
  };
  ASSERT_NE(family(*prom, "go_gc_duration_seconds"), nullptr);
  EXPECT_EQ(family(*prom, "go_gc_duration_seconds")->type, MetricType::kSummary);
  ASSERT_NE(family(*prom, "prometheus_http_request_duration_seconds"), nullptr);
  EXPECT_EQ(family(*prom, "prometheus_http_request_duration_seconds")->type,
            MetricType::kHistogram);
  EXPECT_EQ(family(*prom, "prometheus_http_request_duration_seconds_bucket"), nullptr)
      << "buckets belong to their histogram";

  core::Result<Exposition> nines = ParseExposition(ReadFile(kCorpus / "valid/nines_serve.prom"));
  ASSERT_TRUE(nines.ok()) << nines.status().ToString();
  EXPECT_GE(nines->families.size(), 10u);
  ASSERT_NE(family(*nines, "nines_http_request_duration_seconds"), nullptr);
  EXPECT_EQ(family(*nines, "nines_http_request_duration_seconds")->type, MetricType::kHistogram);
}

TEST(ParsePrometheusFloatTest, AcceptsWhatGoParseFloatAcceptsMinusHexAndUnderscores) {
  struct Case {
    std::string_view text;
    double want;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const Case& c : std::vector<Case>{{"0", 0},
                                         {"1", 1},
                                         {"-2.5", -2.5},
                                         {"+3", 3},
                                         {".5", 0.5},
                                         {"5.", 5},
                                         {"1e3", 1000},
                                         {"1E-3", 0.001},
                                         {"1e+3", 1000},
                                         {"007", 7},
                                         {"Inf", inf},
                                         {"+inf", inf},
                                         {"-INF", -inf},
                                         {"infinity", inf},
                                         {"-Infinity", -inf},
                                         {"1e-400", 0},
                                         {"1.7976931348623157e308", 1.7976931348623157e308}}) {
    SCOPED_TRACE(c.text);
    std::optional<double> v = ParsePrometheusFloat(c.text);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, c.want);
  }
  EXPECT_TRUE(std::signbit(*ParsePrometheusFloat("-1e-400")));
  for (std::string_view nan : {"NaN", "nan", "NAN", "nAn"}) {
    SCOPED_TRACE(nan);
    ASSERT_TRUE(ParsePrometheusFloat(nan).has_value());
    EXPECT_TRUE(std::isnan(*ParsePrometheusFloat(nan)));
  }
  for (std::string_view bad : {"", "+", "-", ".", "e3", "1e", "1e+", "1.2.3", "0x1p-2", "0x10",
                               "1_000", "1p3", "+NaN", "-nan", "infin", "infinityy", "1,5",
                               " 1", "1 ", "1e400", "-1e400", "1.8e308", "nan(1)", "1f", "--1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParsePrometheusFloat(bad).has_value());
  }
}

TEST(ParseExpositionTest, AttachesHistogramAndSummarySamplesToTheirFamilies) {
  const std::string text =
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\n"
      "h_sum 3\n"
      "h_count 2\n"
      "# TYPE s summary\n"
      "s{quantile=\"0.5\"} 1\n"
      "s_sum 2\n"
      "s_count 3\n"
      "s_bucket 4\n";
  core::Result<Exposition> e = ParseExposition(text);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->samples.size(), 8u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(e->FamilyOf(e->samples[i]).name, "h");
  for (size_t i = 4; i < 7; ++i) EXPECT_EQ(e->FamilyOf(e->samples[i]).name, "s");
  EXPECT_EQ(e->FamilyOf(e->samples[7]).name, "s_bucket");
  EXPECT_EQ(e->FamilyOf(e->samples[7]).type, MetricType::kUntyped);
  EXPECT_EQ(e->FamilyOf(e->samples[0]).type, MetricType::kHistogram);
  EXPECT_EQ(e->samples[1].labels.Get("le"), "+Inf");
  EXPECT_EQ(e->samples[1].line, 3u);
}

TEST(ParseExpositionTest, KeepsTimestampsAndUnescapesLabelsAndHelp) {
  core::Result<Exposition> e = ParseExposition(
      "# HELP m line one\\nline two \\\\ \\\" end\n"
      "m{path=\"C:\\\\x\",msg=\"say \\\"hi\\\"\\n\"} 1.5 -1000\n"
      "m{path=\"y\"} 2\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->families.size(), 1u);
  EXPECT_EQ(e->families[0].help, "line one\nline two \\ \" end");
  EXPECT_FALSE(e->families[0].has_type);
  ASSERT_EQ(e->samples.size(), 2u);
  EXPECT_EQ(e->samples[0].labels.Get("path"), "C:\\x");
  EXPECT_EQ(e->samples[0].labels.Get("msg"), "say \"hi\"\n");
  EXPECT_EQ(e->samples[0].timestamp_ms, -1000);
  EXPECT_EQ(e->samples[0].value, 1.5);
  EXPECT_FALSE(e->samples[1].timestamp_ms.has_value());
}

TEST(ParseExpositionTest, ErrorsNameTheLineAndColumn) {
  core::Result<Exposition> e = ParseExposition("a 1\n\n# c\nb{x=\"1\",y=\"a\\qb\"} 1\n");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "line 4 col 13: invalid escape \\q in the value of label \"y\" (want \\\\, \\\" "
            "or \\n)");
  e = ParseExposition("a 1\nb 2 x\n");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "line 2 col 5: invalid timestamp \"x\" (want integer milliseconds since the epoch)");
}

TEST(ParseExpositionTest, CrlfIsRejectedWhereverItAppears) {
  for (std::string_view text : {"a 1\r\n", "# comment\r\na 1\n", "a 1\n\r\n", "# HELP a x\r\n",
                                "a{b=\"c\"} 1 2\r\n", "a 1\r"}) {
    SCOPED_TRACE(text);
    core::Result<Exposition> e = ParseExposition(text);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.status().message().find("CRLF"), std::string::npos) << e.status().message();
  }
  // A carriage return inside a label value is data, not a line ending.
  core::Result<Exposition> e = ParseExposition("a{b=\"x\ry\"} 1\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->samples[0].labels.Get("b"), "x\ry");
}

TEST(ParseExpositionTest, SameSeriesTwiceIsReportedWithBothLines) {
  core::Result<Exposition> e = ParseExposition("a{x=\"1\"} 1 1000\nb 1\na{x=\"1\"} 2 2000\n");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "line 3: duplicate series a{x=\"1\"} (first at line 1)");
}

// Mutations of the valid corpus (byte flips, insertions of the format's special characters,
// deletions, truncations, line swaps) must each give a result or an error, never a crash or a
// hang; under the sanitizer build this also checks every access.
TEST(ParseExpositionFuzzTest, MutatedInputsParseOrFailCleanly) {
  std::vector<std::string> seeds;
  for (const std::string& name : PromFilesIn("valid")) {
    std::string text = ReadFile(kCorpus / "valid" / name);
    if (text.size() > 4096) text = text.substr(0, 4096);  // keep the iterations cheap
    if (!text.empty()) seeds.push_back(text);
  }
  ASSERT_FALSE(seeds.empty());
  std::mt19937 rng(20261122);
  const std::string specials = "{}\",=\\\n\r\t #_:.eE+-0123456789pxNInf\xff\xc3";
  int ok = 0, failed = 0;
  constexpr int kIterations = 20000;
  for (int iter = 0; iter < kIterations; ++iter) {
    std::string text = seeds[rng() % seeds.size()];
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !text.empty(); ++m) {
      size_t at = rng() % text.size();
      switch (rng() % 6) {
        case 0:
          text[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          text.insert(at, 1, specials[rng() % specials.size()]);
          break;
        case 2:
          text.erase(at, 1 + rng() % 8);
          break;
        case 3:
          text.resize(at);
          break;
        case 4: {
          size_t other = rng() % text.size();
          std::swap(text[at], text[other]);
          break;
        }
        case 5:
          text.insert(at, text.substr(rng() % text.size(), rng() % 64));
          break;
      }
    }
    core::Result<Exposition> e = ParseExposition(text);
    if (e.ok()) {
      ++ok;
      for (const ExpositionSample& s : e->samples) {
        ASSERT_LT(s.family, e->families.size());
        ASSERT_FALSE(s.labels.MetricName().empty());
      }
    } else {
      ++failed;
      ASSERT_EQ(e.status().message().rfind("line ", 0), 0u) << e.status().message();
    }
  }
  // Both outcomes occur, so the mutations reach past the first line and the checks matter.
  EXPECT_GT(ok, kIterations / 100);
  EXPECT_GT(failed, kIterations / 100);
}

TEST(ParseExpositionFuzzTest, RandomBytesParseOrFailCleanly) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab_:{}\"=,\\n \t#\n0123456789.eE+-HELPTYPE\x80\xff";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text(rng() % 200, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    core::Result<Exposition> e = ParseExposition(text);
    if (!e.ok()) {
      ASSERT_EQ(e.status().message().rfind("line ", 0), 0u) << e.status().message();
    }
  }
}

}  // namespace
}  // namespace nines::collector
