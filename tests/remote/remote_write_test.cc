// The remote-write codec (DecodeWriteRequest / EncodeWriteRequest) and the receiver handler
// behind a real net::Server on loopback, writing into a recording appender (through
// Appender::Append, and through the label-view path the RocksDB store offers), and into a real
// store.
#include "remote/remote.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "core/clock.h"
#include "core/json.h"
#include "core/utf8.h"
#include "net/http_client.h"
#include "net/net.h"
#include "remote_write.pb.h"
#include "store/series_appender.h"
#include "tests/remote/remote_write_test_util.h"
#include "tests/testutil/recording_appender.h"
#include "tests/testutil/testutil.h"

namespace nines::remote {
namespace {

using core::Labels;
using core::Sample;
using core::StatusCode;
using store::Appender;
using store::CommitResult;
using store::OpenStore;
using store::ParseSelector;
using store::Store;
using store::StoreOptions;
using ::testing::HasSubstr;
using testing::MetricValue;
using testing::AppendVarint;
using testing::SnappyLiteral;

Labels L(std::initializer_list<core::Label> pairs) { return Labels::From(pairs).value(); }

// Prometheus' staleness marker: a NaN with a specific payload that must survive bit for bit.
const double kStaleNaN = std::bit_cast<double>(uint64_t{0x7ff0000000000002});

uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }

void ExpectSameRequest(const WriteRequest& got, const WriteRequest& want) {
  ASSERT_EQ(got.series.size(), want.series.size());
  for (size_t i = 0; i < want.series.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got.series[i].labels, want.series[i].labels);
    EXPECT_EQ(got.series[i].labels.Hash(), want.series[i].labels.Hash());
    ASSERT_EQ(got.series[i].samples.size(), want.series[i].samples.size());
    for (size_t k = 0; k < want.series[i].samples.size(); ++k) {
      EXPECT_EQ(got.series[i].samples[k].timestamp_ms, want.series[i].samples[k].timestamp_ms);
      EXPECT_EQ(Bits(got.series[i].samples[k].value), Bits(want.series[i].samples[k].value));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Codec

TEST(RemoteWriteCodecTest, RoundTripKeepsSpecialValuesBitForBit) {
  WriteRequest req;
  req.series.push_back(
      {L({{"__name__", "probe_success"}, {"region", "eu-west-1"}, {"target", "https://x/"}}),
       {{1'700'000'000'000, 1},
        {1'700'000'015'000, std::numeric_limits<double>::quiet_NaN()},
        {1'700'000'030'000, kStaleNaN},
        {1'700'000'045'000, std::numeric_limits<double>::infinity()},
        {1'700'000'060'000, -std::numeric_limits<double>::infinity()},
        {1'700'000'075'000, -0.0},
        {1'700'000'090'000, std::numeric_limits<double>::denorm_min()}}});
  req.series.push_back({L({{"__name__", "x:rate5m"}, {"v", "ünïcödé \"q\"\n"}}),
                        {{std::numeric_limits<int64_t>::min(), 1e308},
                         {-1, -5},
                         {0, 0},
                         {std::numeric_limits<int64_t>::max(), 2}}});
  req.series.push_back({L({{"__name__", "no_samples"}}), {}});

  auto got = DecodeWriteRequest(EncodeWriteRequest(req));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameRequest(*got, req);
  EXPECT_EQ(got->SampleCount(), 11);
  EXPECT_EQ(got->ignored_histograms + got->ignored_exemplars + got->ignored_metadata, 0);
}

TEST(RemoteWriteCodecTest, RoundTripLargeBatch) {
  WriteRequest req;
  for (int i = 0; i < 5000; ++i) {
    TimeSeries ts{L({{"__name__", "probe_duration_seconds"},
                     {"instance", "prober-" + std::to_string(i % 7)},
                     {"probe", "api-" + std::to_string(i)},
                     {"region", "us-east-1"}}),
                  {}};
    for (int k = 0; k < 20; ++k) ts.samples.push_back({1'700'000'000'000 + k * 15'000, i * 0.5 + k});
    req.series.push_back(std::move(ts));
  }
  std::string body = EncodeWriteRequest(req);
  auto got = DecodeWriteRequest(body);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameRequest(*got, req);
  EXPECT_EQ(got->SampleCount(), 100'000);
}

TEST(RemoteWriteCodecTest, EmptyRequestRoundTrips) {
  auto got = DecodeWriteRequest(EncodeWriteRequest(WriteRequest{}));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->series.empty());
}

// Builds a body from prompb messages (to send what EncodeWriteRequest never would) and wraps it
// with the literal-only snappy encoder.
class Proto {
 public:
  prompb::TimeSeries* Series(std::initializer_list<std::pair<std::string, std::string>> labels,
                             int samples = 1) {
    prompb::TimeSeries* ts = req_.add_timeseries();
    for (const auto& [name, value] : labels) {
      prompb::Label* l = ts->add_labels();
      l->set_name(name);
      l->set_value(value);
    }
    for (int k = 0; k < samples; ++k) {
      prompb::Sample* s = ts->add_samples();
      s->set_timestamp(1000 + k);
      s->set_value(k);
    }
    return ts;
  }
  prompb::WriteRequest& request() { return req_; }
  std::string Wire() const { return req_.SerializeAsString(); }
  std::string Body() const { return SnappyLiteral(Wire()); }

 private:
  prompb::WriteRequest req_;
};


// The zero-copy fast path and the generated protobuf parser must decode every body alike: the
// same series, bit-identical samples, the same counts of what was ignored, the same errors.
void ExpectSameDecode(const std::string& wire) {
  core::Result<WriteRequest> fast = DecodeWriteRequest(SnappyLiteral(wire));
  core::Result<WriteRequest> slow = internal::DecodeWithGeneratedParser(wire);
  ASSERT_EQ(fast.ok(), slow.ok()) << fast.status().ToString() << " vs " << slow.status().ToString();
  if (!fast.ok()) {
    EXPECT_EQ(fast.status(), slow.status());
    return;
  }
  ASSERT_EQ(fast->series.size(), slow->series.size());
  for (size_t i = 0; i < fast->series.size(); ++i) {
    ASSERT_EQ(fast->series[i].labels, slow->series[i].labels) << i;
    ASSERT_EQ(fast->series[i].samples.size(), slow->series[i].samples.size()) << i;
    for (size_t k = 0; k < fast->series[i].samples.size(); ++k) {
      ASSERT_EQ(fast->series[i].samples[k].timestamp_ms, slow->series[i].samples[k].timestamp_ms);
      ASSERT_EQ(std::bit_cast<uint64_t>(fast->series[i].samples[k].value),
                std::bit_cast<uint64_t>(slow->series[i].samples[k].value));
    }
  }
  EXPECT_EQ(fast->ignored_exemplars, slow->ignored_exemplars);
  EXPECT_EQ(fast->ignored_histograms, slow->ignored_histograms);
  EXPECT_EQ(fast->ignored_metadata, slow->ignored_metadata);
}

TEST(RemoteWriteCodecTest, FastPathAgreesWithTheGeneratedParserOnRandomRequests) {
  std::mt19937_64 rng(11);
  const char* names[] = {"__name__", "job", "region", "a", "Z", "le", "x_y", "", "1bad"};
  const char* values[] = {"up", "probe_success", "eu-west-1", "", "h\xc3\xa9", "\xff\xfe", "a b",
                          "bad-name"};
  for (int round = 0; round < 400; ++round) {
    SCOPED_TRACE(round);
    prompb::WriteRequest req;
    int n_series = static_cast<int>(rng() % 6);
    for (int i = 0; i < n_series; ++i) {
      prompb::TimeSeries* ts = req.add_timeseries();
      // Mostly valid, sorted label sets; sometimes shuffled or odd on purpose.
      std::vector<std::pair<std::string, std::string>> labels = {{"__name__", "up"}};
      for (int j = 0; j < static_cast<int>(rng() % 4); ++j) {
        labels.emplace_back(names[rng() % 9], values[rng() % 8]);
      }
      if (rng() % 4 != 0) std::sort(labels.begin(), labels.end());
      for (const auto& [n, v] : labels) {
        prompb::Label* l = ts->add_labels();
        l->set_name(n);
        l->set_value(v);
      }
      for (int k = 0; k < static_cast<int>(rng() % 5); ++k) {
        prompb::Sample* smp = ts->add_samples();
        smp->set_timestamp(static_cast<int64_t>(rng()));
        smp->set_value(std::bit_cast<double>(rng()));
      }
      if (rng() % 5 == 0) ts->add_exemplars()->set_timestamp(1);
    }
    if (rng() % 5 == 0) req.add_metadata()->set_metric_family_name("up");
    ExpectSameDecode(req.SerializeAsString());
  }
}

TEST(RemoteWriteCodecTest, FastPathHandlesAnyFieldOrderAndUnknownFields) {
  // Hand-written wire bytes: a label with its value before its name, a sample with its
  // timestamp before its value, and unknown fields (number 15) in every message.
  auto varint = [](uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    return out;
  };
  auto field = [&](int number, int type, const std::string& payload) {
    std::string out = varint(static_cast<uint64_t>(number << 3 | type));
    if (type == 2) out += varint(payload.size());
    return out + payload;
  };
  std::string label_name = field(2, 2, "up") + field(15, 0, varint(7)) + field(1, 2, "__name__");
  std::string label_job = field(1, 2, "job") + field(2, 2, "api");
  double value = 0.25;
  std::string bits(8, '\0');
  std::memcpy(bits.data(), &value, 8);
  std::string sample = field(2, 0, varint(1700000000000)) + field(15, 2, "junk") + field(1, 1, bits);
  std::string series = field(1, 2, label_name) + field(15, 5, "abcd") + field(1, 2, label_job) +
                       field(2, 2, sample);
  std::string wire = field(15, 2, "ignored") + field(1, 2, series);
  core::Result<WriteRequest> got = DecodeWriteRequest(SnappyLiteral(wire));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->series.size(), 1u);
  EXPECT_EQ(got->series[0].labels.ToString(), R"(up{job="api"})");
  ASSERT_EQ(got->series[0].samples.size(), 1u);
  EXPECT_EQ(got->series[0].samples[0].timestamp_ms, 1700000000000);
  EXPECT_EQ(got->series[0].samples[0].value, 0.25);
  ExpectSameDecode(wire);
  // Field number 0 is invalid protobuf: both paths reject it.
  ExpectSameDecode(field(0, 0, varint(1)) + field(1, 2, series));
  // A truncated length is an error on both paths.
  ExpectSameDecode(wire.substr(0, wire.size() - 3));
}

// Appends a length-delimited field.
void AppendField(std::string* out, int number, std::string_view payload) {
  AppendVarint(out, static_cast<uint64_t>(number) << 3 | 2);
  AppendVarint(out, payload.size());
  out->append(payload);
}

// Wire bytes of a request with one valid series (up 1 @1) followed, inside the series, by
// `series_tail` and, after it, by `request_tail`.
std::string SeriesWith(std::string_view series_tail, std::string_view request_tail = {}) {
  std::string label, sample, series, wire;
  AppendField(&label, 1, "__name__");
  AppendField(&label, 2, "up");
  sample = std::string("\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\x01", 11);
  AppendField(&series, 1, label);
  AppendField(&series, 2, sample);
  series += series_tail;
  AppendField(&wire, 1, series);
  wire += request_tail;
  return wire;
}

// Found by fuzz/fuzz_remote_write: the fast path jumped over exemplars, histograms and metadata
// without reading them, so it accepted requests whose skipped parts the generated parser
// rejects as malformed protobuf (a label running past the end of its exemplar).
TEST(RemoteWriteCodecTest, FastPathRejectsMalformedPartsItSkips) {
  std::string label_overrun = std::string("\x0a\x10trace", 7);  // a 16-byte name in 5 bytes
  std::string exemplar;
  AppendField(&exemplar, 1, label_overrun);
  std::string bad_exemplar;
  AppendField(&bad_exemplar, 3, exemplar);
  SCOPED_TRACE("exemplar with an overrunning label");
  ExpectSameDecode(SeriesWith(bad_exemplar));
  EXPECT_FALSE(DecodeWriteRequest(SnappyLiteral(SeriesWith(bad_exemplar))).ok());

  std::string bad_metadata;
  AppendField(&bad_metadata, 3, std::string("\x08\xff", 2));  // a truncated varint
  ExpectSameDecode(SeriesWith({}, bad_metadata));
  EXPECT_FALSE(DecodeWriteRequest(SnappyLiteral(SeriesWith({}, bad_metadata))).ok());

  std::string bad_histogram;  // positive_counts (13, packed doubles) of 7 bytes
  std::string histogram;
  AppendField(&histogram, 13, std::string(7, '\0'));
  AppendField(&bad_histogram, 4, histogram);
  ExpectSameDecode(SeriesWith(bad_histogram));

  // Well-formed ones are skipped and counted on both paths.
  std::string good_label, good_exemplar, good_metadata, good_histogram, good_tail;
  AppendField(&good_label, 1, "trace_id");
  AppendField(&good_label, 2, "abc");
  AppendField(&good_exemplar, 1, good_label);
  AppendField(&good_tail, 3, good_exemplar);
  AppendField(&good_histogram, 13, std::string(8, '\0'));
  AppendField(&good_tail, 4, good_histogram);
  AppendField(&good_metadata, 2, "up");
  std::string request_tail;
  AppendField(&request_tail, 3, good_metadata);
  ExpectSameDecode(SeriesWith(good_tail, request_tail));
  core::Result<WriteRequest> got = DecodeWriteRequest(SnappyLiteral(SeriesWith(good_tail, request_tail)));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->ignored_exemplars, 1);
  EXPECT_EQ(got->ignored_histograms, 1);
  EXPECT_EQ(got->ignored_metadata, 1);
}

TEST(RemoteWriteCodecTest, DecodesAPlainSnappyLiteralBody) {
  Proto p;
  p.Series({{"__name__", "up"}, {"job", "api"}}, 3);
  auto got = DecodeWriteRequest(p.Body());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->series.size(), 1u);
  EXPECT_EQ(got->series[0].labels.ToString(), "up{job=\"api\"}");
  ASSERT_EQ(got->series[0].samples.size(), 3u);
  EXPECT_EQ(got->series[0].samples[2].timestamp_ms, 1002);
  EXPECT_EQ(got->series[0].samples[2].value, 2);
}

TEST(RemoteWriteCodecTest, EmptyLabelValuesAreDropped) {
  Proto p;
  p.Series({{"__name__", "up"}, {"a", ""}, {"job", "api"}, {"zone", ""}});
  auto got = DecodeWriteRequest(p.Body());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->series[0].labels, L({{"__name__", "up"}, {"job", "api"}}));
}

TEST(RemoteWriteCodecTest, UppercaseLabelsSortBeforeName) {
  // Byte order: 'Z' (0x5a) < '_' (0x5f) < 'a'.
  Proto p;
  p.Series({{"Zone", "1"}, {"__name__", "up"}, {"a", "b"}});
  auto got = DecodeWriteRequest(p.Body());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->series[0].labels.ToString(), "up{Zone=\"1\",a=\"b\"}");
}

TEST(RemoteWriteCodecTest, HistogramsExemplarsAndMetadataAreSkippedAndCounted) {
  Proto p;
  prompb::TimeSeries* ts = p.Series({{"__name__", "rpc_seconds"}, {"job", "api"}}, 2);
  prompb::Histogram* h = ts->add_histograms();
  h->set_count_int(10);
  h->set_sum(1.5);
  h->set_schema(3);
  h->add_positive_spans()->set_length(2);
  h->add_positive_deltas(4);
  h->add_positive_deltas(-1);
  h->set_timestamp(1000);
  ts->add_histograms()->set_timestamp(2000);
  prompb::Exemplar* e = ts->add_exemplars();
  e->set_value(0.3);
  e->set_timestamp(1000);
  prompb::Label* el = e->add_labels();
  el->set_name("trace_id");
  el->set_value("abc");
  prompb::MetricMetadata* m = p.request().add_metadata();
  m->set_type(prompb::MetricMetadata::COUNTER);
  m->set_metric_family_name("rpc_seconds");
  m->set_help("help");

  auto got = DecodeWriteRequest(p.Body());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->series.size(), 1u);
  EXPECT_EQ(got->SampleCount(), 2);
  EXPECT_EQ(got->ignored_histograms, 2);
  EXPECT_EQ(got->ignored_exemplars, 1);
  EXPECT_EQ(got->ignored_metadata, 1);
}

TEST(RemoteWriteCodecTest, DecodedSizeLimitIsInclusive) {
  Proto p;
  p.Series({{"__name__", "up"}});
  const std::string wire = p.Wire();
  EXPECT_TRUE(DecodeWriteRequest(p.Body(), wire.size()).ok());
  auto over = DecodeWriteRequest(p.Body(), wire.size() - 1);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(over.status().message(),
            fmt::format("decoded body would be {} bytes, over the limit of {} bytes", wire.size(),
                        wire.size() - 1));
}

TEST(RemoteWriteCodecTest, MalformedInputsNameTheProblem) {
  Proto valid;
  valid.Series({{"__name__", "up"}, {"job", "api"}}, 5);
  const std::string valid_body = valid.Body();
  const std::string valid_wire = valid.Wire();

  auto body_of = [](std::initializer_list<std::pair<std::string, std::string>> labels) {
    Proto p;
    p.Series({{"__name__", "ok"}});  // series 0 is fine; the problem is in series 1
    p.Series(labels);
    return p.Body();
  };

  struct Case {
    std::string name;
    std::string body;
    StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"empty body", "", StatusCode::kInvalidArgument,
       "body is not snappy-compressed (block format): cannot read the uncompressed length"},
      {"length varint cut short", "\xff\xff", StatusCode::kInvalidArgument,
       "body is not snappy-compressed (block format): cannot read the uncompressed length"},
      {"length header claims 4 GiB", std::string("\xff\xff\xff\xff\x0f\x00", 6),
       StatusCode::kResourceExhausted,
       "decoded body would be 4294967295 bytes, over the limit of 33554432 bytes"},
      {"garbage", "this is not snappy at all", StatusCode::kInvalidArgument,
       "body is not valid snappy (block format)"},
      {"truncated snappy", valid_body.substr(0, valid_body.size() - 4),
       StatusCode::kInvalidArgument, "body is not valid snappy (block format)"},
      {"uncompressed protobuf (no snappy)", valid_wire, StatusCode::kInvalidArgument,
       "body is not valid snappy (block format)"},
      {"snappy length longer than the data", std::string("\x10\x0c" "abcd", 6),
       StatusCode::kInvalidArgument, "body is not valid snappy (block format)"},
      {"truncated protobuf", SnappyLiteral(valid_wire.substr(0, valid_wire.size() - 3)),
       StatusCode::kInvalidArgument,
       "body is not a valid remote-write WriteRequest (truncated or malformed protobuf)"},
      {"garbage protobuf", SnappyLiteral("\xff\xff\xff\xff"), StatusCode::kInvalidArgument,
       "body is not a valid remote-write WriteRequest (truncated or malformed protobuf)"},
      {"no labels", body_of({}), StatusCode::kInvalidArgument, "series 1 has no labels"},
      {"empty label name", body_of({{"", "x"}, {"__name__", "up"}}),
       StatusCode::kInvalidArgument, "label 0 of series 1 has an empty name"},
      {"invalid label name", body_of({{"__name__", "up"}, {"1job", "x"}}),
       StatusCode::kInvalidArgument, "label name \"1job\" of series 1 is invalid"},
      {"label name with a dash", body_of({{"__name__", "up"}, {"my-job", "x"}}),
       StatusCode::kInvalidArgument, "label name \"my-job\" of series 1 is invalid"},
      {"hostile label name is escaped", body_of({{"__name__", "up"}, {"a\n\"\xff", "x"}}),
       StatusCode::kInvalidArgument, "label name \"a\\x0a\\\"\\xff\" of series 1 is invalid"},
      {"unsorted", body_of({{"__name__", "up"}, {"region", "eu"}, {"job", "api"}}),
       StatusCode::kInvalidArgument,
       "labels of series 1 are not sorted: \"job\" after \"region\""},
      {"name not first", body_of({{"job", "api"}, {"__name__", "up"}}),
       StatusCode::kInvalidArgument,
       "labels of series 1 are not sorted: \"__name__\" after \"job\""},
      {"duplicate name", body_of({{"__name__", "up"}, {"job", "a"}, {"job", "b"}}),
       StatusCode::kInvalidArgument, "duplicate label name \"job\" in series 1"},
      {"duplicate name, one empty", body_of({{"__name__", "up"}, {"job", ""}, {"job", "b"}}),
       StatusCode::kInvalidArgument, "duplicate label name \"job\" in series 1"},
      {"no __name__", body_of({{"job", "api"}}), StatusCode::kInvalidArgument,
       "series 1 has no __name__ label"},
      {"empty __name__", body_of({{"__name__", ""}, {"job", "api"}}),
       StatusCode::kInvalidArgument, "series 1 has no __name__ label"},
      {"invalid metric name", body_of({{"__name__", "up-time"}}), StatusCode::kInvalidArgument,
       "metric name \"up-time\" of series 1 is invalid"},
      {"invalid UTF-8 value", body_of({{"__name__", "up"}, {"job", "a\xc3("}}),
       StatusCode::kInvalidArgument, "value of label \"job\" of series 1 is not valid UTF-8"},
      {"UTF-16 surrogate in value", body_of({{"__name__", "up"}, {"job", "\xed\xa0\x80"}}),
       StatusCode::kInvalidArgument, "value of label \"job\" of series 1 is not valid UTF-8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = DecodeWriteRequest(c.body);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), c.code);
    EXPECT_EQ(got.status().message(), c.message);
  }
}

TEST(RemoteWriteCodecTest, ValidUtf8ValuesAreAccepted) {
  Proto p;
  p.Series({{"__name__", "up"},
            {"a", "plain ascii that is longer than eight bytes"},
            {"b", "Zürich — 東京 🙂"},
            {"c", "\xf4\x8f\xbf\xbf"}});  // U+10FFFF
  auto got = DecodeWriteRequest(p.Body());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->series[0].labels.Get("b"), "Zürich — 東京 🙂");
}

// ---------------------------------------------------------------------------------------------
// Handler

struct StoredSample {
  std::string series;
  int64_t timestamp_ms;
  double value;
  bool operator==(const StoredSample&) const = default;
};

// The tests' recording store (testutil::RecordingStore), handing out appenders that offer the
// label-view path too when `series_appenders` is set. Thread-safe.
class FakeStore : public testutil::RecordingStore {
 public:
  std::unique_ptr<Appender> NewAppender();

  // What was committed, as (series, t, v).
  std::vector<StoredSample> committed() const {
    std::vector<StoredSample> out;
    for (const testutil::RecordedSample& s : RecordingStore::committed()) {
      out.push_back({s.series, s.timestamp_ms, s.value});
    }
    return out;
  }
  // Whether NewAppender hands out FakeSeriesAppenders. Set before the server starts.
  bool series_appenders = false;
};

// A recording appender that also offers the label-view path, as the RocksDB store's appenders
// do.
class FakeSeriesAppender final : public store::SeriesAppender {
 public:
  explicit FakeSeriesAppender(FakeStore* store) : inner_(store) {}
  core::Status AppendSeries(std::span<const store::LabelView> labels, uint64_t hash,
                            std::span<const Sample> samples) override {
    std::vector<core::Label> pairs;
    for (const store::LabelView& l : labels) {
      pairs.push_back({std::string(l.name), std::string(l.value)});
    }
    auto built = Labels::FromSortedPairs(pairs);
    if (!built.ok()) return built.status();
    EXPECT_EQ(built->size(), labels.size()) << "the receiver passed an empty value";
    EXPECT_EQ(hash, built->Hash());
    for (const Sample& s : samples) RETURN_IF_ERROR(inner_.Append(*built, s.timestamp_ms, s.value));
    return core::Status::Ok();
  }
  // Knows every series whose labels are valid (as the store knows only valid series).
  bool AppendKnownSeries(std::span<const store::LabelView> labels, uint64_t hash,
                         std::span<const Sample> samples) override {
    std::vector<core::Label> pairs;
    for (const store::LabelView& l : labels) {
      pairs.push_back({std::string(l.name), std::string(l.value)});
    }
    auto built = Labels::FromSortedPairs(pairs);
    if (!built.ok() || built->size() != labels.size() || built->MetricName().empty() ||
        !std::all_of(labels.begin(), labels.end(), [](const store::LabelView& l) {
          return core::IsValidUtf8(l.value);
        })) {
      return false;
    }
    EXPECT_EQ(hash, built->Hash());
    for (const Sample& s : samples) EXPECT_TRUE(inner_.Append(*built, s.timestamp_ms, s.value).ok());
    return true;
  }
  core::Status Append(const Labels& series, int64_t timestamp_ms, double value) override {
    return inner_.Append(series, timestamp_ms, value);
  }
  core::Result<CommitResult> Commit() override { return inner_.Commit(); }
  void Rollback() override { inner_.Rollback(); }

 private:
  testutil::RecordingAppender inner_;
};

std::unique_ptr<Appender> FakeStore::NewAppender() {
  if (series_appenders) return std::make_unique<FakeSeriesAppender>(this);
  return std::make_unique<testutil::RecordingAppender>(this);
}

// The parameter: whether the store's appenders offer the label-view path (the RocksDB store's
// do), so that every case runs through both of the receiver's paths.
class RemoteWriteHandlerTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    store_.series_appenders = GetParam();
    StartServer(kDefaultMaxDecodedBytes);
  }

  void StartServer(size_t max_decoded_bytes, bool null_appender = false) {
    server_.reset();
    net::Router router;
    router.Handle("POST", "/api/v1/write", net::Access::kPublic,
                  RemoteWriteHandler(
                      [this, null_appender]() -> std::unique_ptr<Appender> {
                        if (null_appender) return nullptr;
                        return store_.NewAppender();
                      },
                      registry_, max_decoded_bytes));
    net::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.max_body_bytes = 1 << 20;
    auto server = net::Server::Start(options, std::move(router), core::RealClock(), registry_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  net::ClientResponse Post(std::string body, net::Headers headers = DefaultHeaders()) {
    auto res = client_.Do({.method = "POST",
                           .url = "http://" + server_->address() + "/api/v1/write",
                           .headers = std::move(headers),
                           .body = std::move(body)});
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? std::move(res).value() : net::ClientResponse{};
  }

  static net::Headers DefaultHeaders() {
    return {{"Content-Type", "application/x-protobuf"},
            {"Content-Encoding", "snappy"},
            {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  }

  static WriteRequest TwoSeries(int64_t t0 = 1000) {
    WriteRequest req;
    req.series.push_back({L({{"__name__", "up"}, {"job", "api"}}), {{t0, 1}, {t0 + 15, 0}}});
    req.series.push_back({L({{"__name__", "probe_success"}, {"region", "eu"}}), {{t0, 1}}});
    return req;
  }

  double Metric(std::string_view name, const std::map<std::string, std::string>& labels) {
    return MetricValue(*registry_, name, labels);
  }

  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  FakeStore store_;
  net::HttpClient client_;
  std::unique_ptr<net::Server> server_;
};

TEST_P(RemoteWriteHandlerTest, Answers204AfterCommittingEverySample) {
  net::ClientResponse res = Post(EncodeWriteRequest(TwoSeries()));
  EXPECT_EQ(res.status, 204);
  EXPECT_EQ(res.body, "");
  // The handler answered only after Commit returned, so the samples are already there.
  EXPECT_EQ(store_.committed(),
            (std::vector<StoredSample>{{"up{job=\"api\"}", 1000, 1},
                                       {"up{job=\"api\"}", 1015, 0},
                                       {"probe_success{region=\"eu\"}", 1000, 1}}));
  EXPECT_EQ(store_.commits(), 1);
  EXPECT_EQ(Metric("nines_remote_write_received_samples_total", {{"outcome", "appended"}}), 3);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "204"}}), 1);
}

TEST_P(RemoteWriteHandlerTest, HeadersAreOptionalButCheckedWhenGiven) {
  struct Case {
    std::string name;
    net::Headers headers;
    int status;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"no headers", {}, 204, ""},
      {"proto parameter", {{"Content-Type", "application/x-protobuf;proto=prometheus.WriteRequest"}},
       204, ""},
      {"case-insensitive", {{"Content-Type", "Application/X-Protobuf"}, {"Content-Encoding", "SNAPPY"}},
       204, ""},
      {"version 0.1.0", {{"X-Prometheus-Remote-Write-Version", "0.1.0"}}, 204, ""},
      {"json", {{"Content-Type", "application/json"}}, 415,
       "unsupported Content-Type \"application/json\": remote write needs application/x-protobuf"},
      {"remote write 2.0 message",
       {{"Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request"}}, 415,
       "unsupported Content-Type"},
      {"gzip", {{"Content-Encoding", "gzip"}}, 415, "unsupported Content-Encoding \"gzip\""},
      {"version 2.0.0", {{"X-Prometheus-Remote-Write-Version", "2.0.0"}}, 415,
       "unsupported remote write version \"2.0.0\": this receiver speaks 0.1.0"},
  };
  int64_t t = 1000;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    net::ClientResponse res = Post(EncodeWriteRequest(TwoSeries(t += 100)), c.headers);
    EXPECT_EQ(res.status, c.status);
    if (!c.reason.empty()) {
      std::string escaped;  // The reason as it appears inside the JSON error body.
      core::AppendJsonString(&escaped, c.reason);
      EXPECT_THAT(res.body, HasSubstr(escaped.substr(1, escaped.size() - 2)));
    }
  }
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "415"}}), 4);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "204"}}), 4);
}

TEST_P(RemoteWriteHandlerTest, MalformedBodyIs400WithReasonAndServerKeepsServing) {
  Proto p;
  p.Series({{"__name__", "up"}});
  p.Series({{"__name__", "up"}, {"region", "eu"}, {"job", "api"}});
  net::ClientResponse res = Post(p.Body());
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.body,
            R"({"status":"error","error":"labels of series 1 are not sorted: \"job\" after \"region\""})");
  EXPECT_EQ(Post("garbage").status, 400);
  EXPECT_EQ(Post("").status, 400);
  // Nothing of a malformed request is stored, not even its valid first series.
  EXPECT_TRUE(store_.committed().empty());
  EXPECT_EQ(store_.commits(), 0);

  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries())).status, 204);
  EXPECT_EQ(store_.committed().size(), 3u);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "400"}}), 3);
}

// Found by fuzz/fuzz_remote_write: tags and lengths are 32-bit varints, which the generated
// parser reads in at most 5 bytes; the fast path read them as 64-bit ones and accepted a
// zero-padded 6-byte encoding that protobuf refuses.
TEST(RemoteWriteCodecTest, FastPathRefusesOverlongTagsAndLengths) {
  // Field 15, varint, tag 0x78 padded to 6 bytes, value 10.
  const std::string padded_tag("\xf8\x80\x80\x80\x80\x00\x0a", 7);
  ExpectSameDecode(SeriesWith({}, padded_tag));
  EXPECT_FALSE(DecodeWriteRequest(SnappyLiteral(SeriesWith({}, padded_tag))).ok());
  // The same field with its tag in 5 bytes is a valid unknown field.
  const std::string five_byte_tag("\xf8\x80\x80\x80\x00\x0a", 6);
  ExpectSameDecode(SeriesWith({}, five_byte_tag));
  EXPECT_TRUE(DecodeWriteRequest(SnappyLiteral(SeriesWith({}, five_byte_tag))).ok());
  // An unknown length-delimited field (15) whose length 1 is padded to 6 bytes.
  const std::string padded_length("\x7a\x81\x80\x80\x80\x80\x00x", 8);
  ExpectSameDecode(SeriesWith({}, padded_length));
  EXPECT_FALSE(DecodeWriteRequest(SnappyLiteral(SeriesWith({}, padded_length))).ok());
}

// Found by fuzz/fuzz_remote_write under UBSan: a 2,111-byte body gave the generated parser's
// arena a 4,222-byte first block, whose cleanup list (the unknown-field set of a series) was
// then misaligned. The decode below aborts in the sanitizer build on the old code.
TEST(RemoteWriteCodecTest, ArenaBlocksAreAligned) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2047}, size_t{2111}, size_t{3001},
                   size_t{1} << 21, size_t{1} << 23}) {
    SCOPED_TRACE(n);
    EXPECT_EQ(internal::ArenaStartBlockSize(n) % 16, 0u);
    EXPECT_GE(internal::ArenaStartBlockSize(n), std::min<size_t>(2 * n, 4 << 20));
  }
  std::string unknown;
  AppendField(&unknown, 15, std::string(2111 - SeriesWith({}).size() - 4, ' '));
  std::string wire = SeriesWith(unknown);
  ASSERT_EQ(wire.size(), 2111u);
  ExpectSameDecode(wire);
  core::Result<WriteRequest> got = internal::DecodeWithGeneratedParser(wire);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->series.size(), 1u);
}

// The receiver's own zero-copy path (AppendDecoded) refuses it too: nothing is stored.
TEST_P(RemoteWriteHandlerTest, MalformedExemplarIs400) {
  std::string exemplar, bad_exemplar;
  AppendField(&exemplar, 1, std::string("\x0a\x10trace", 7));
  AppendField(&bad_exemplar, 3, exemplar);
  net::ClientResponse res = Post(SnappyLiteral(SeriesWith(bad_exemplar)));
  EXPECT_EQ(res.status, 400);
  EXPECT_THAT(res.body, HasSubstr("malformed protobuf"));
  EXPECT_TRUE(store_.committed().empty());
}

TEST_P(RemoteWriteHandlerTest, DecodedSizeOverLimitIs413) {
  StartServer(200);
  WriteRequest req;
  for (int i = 0; i < 10; ++i) {
    req.series.push_back(
        {L({{"__name__", "a_rather_long_metric_name"}, {"i", std::to_string(i)}}), {{1, 1}}});
  }
  net::ClientResponse res = Post(EncodeWriteRequest(req));
  EXPECT_EQ(res.status, 413);
  EXPECT_THAT(res.body, HasSubstr("over the limit of 200 bytes"));
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "413"}}), 1);
  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries())).status, 204);
}

TEST_P(RemoteWriteHandlerTest, CommitFailureIs5xxAndStoresNothing) {
  store_.FailNextCommit(core::UnavailableError("disk full"));
  net::ClientResponse res = Post(EncodeWriteRequest(TwoSeries()));
  EXPECT_EQ(res.status, 503);
  EXPECT_THAT(res.body, HasSubstr("commit failed: disk full"));
  EXPECT_TRUE(store_.committed().empty());

  store_.FailNextCommit(core::DataLossError("bad block"));
  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries())).status, 500);
  EXPECT_TRUE(store_.committed().empty());

  // The sender's retry of the same batch then succeeds.
  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries())).status, 204);
  EXPECT_EQ(store_.committed().size(), 3u);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "503"}}), 1);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "500"}}), 1);
}

TEST_P(RemoteWriteHandlerTest, NoAppenderIs503) {
  StartServer(kDefaultMaxDecodedBytes, /*null_appender=*/true);
  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries())).status, 503);
}

// A refused sample is never answered as stored (issue 12): duplicates are not refusals (a
// retried batch gets 204), but a request with refused samples gets a 400 that says what was
// refused, by reason, with an example, in the body and in headers, after the rest was stored.
TEST_P(RemoteWriteHandlerTest, RefusedSamplesAre400WithCountsButDuplicatesAre204) {
  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries(1000))).status, 204);
  // A retried batch (e.g. after a lost 204) is harmless.
  EXPECT_EQ(Post(EncodeWriteRequest(TwoSeries(1000))).status, 204);
  store_.SetAcceptedRange(5000, 1'700'000'600'000);  // max: 2023-11-14T22:23:20.000Z
  // Every sample refused.
  net::ClientResponse all = Post(EncodeWriteRequest(TwoSeries(100)));
  EXPECT_EQ(all.status, 400);
  EXPECT_EQ(all.body,
            R"j({"status":"error","errorType":"bad_data","error":"refused all 3 samples: 3 )j"
            R"j(too_old (before 1970-01-01T00:00:05.000Z, the receiver's clock minus its )j"
            R"j(out-of-order window, or not after what the series already settled; e.g. )j"
            R"j(up{job=\"api\"} at 1970-01-01T00:00:00.100Z)","stored":0,"duplicates":0,)j"
            R"j("refused":{"too_far_in_future":0,"too_old":3,"invalid":0}})j");
  EXPECT_EQ(all.headers.Get("X-Nines-Refused-Samples"), "too_old=3");
  EXPECT_EQ(all.headers.Get("X-Nines-Stored-Samples"), "0");
  // Part refused: one sample 3 hours ahead, one too old, one stored, one repeated.
  WriteRequest mixed;
  mixed.series.push_back({L({{"__name__", "up"}, {"job", "api"}}),
                          {{6000, 1}, {6000, 1}, {1'700'010'800'000, 1}}});
  mixed.series.push_back({L({{"__name__", "probe_success"}, {"region", "eu"}}), {{100, 1}}});
  net::ClientResponse part = Post(EncodeWriteRequest(mixed));
  EXPECT_EQ(part.status, 400);
  EXPECT_THAT(part.body, HasSubstr(R"j("error":"refused 2 of 4 samples (1 stored, 1 already )j"
                                   R"j(stored): 1 too_far_in_future (after 2023-11-14T22:23:20.000Z, )j"
                                   R"j(the receiver's clock plus its future tolerance; e.g. )j"
                                   R"j(up{job=\"api\"} at 2023-11-15T01:13:20.000Z); 1 too_old )j"));
  EXPECT_THAT(part.body,
              HasSubstr(R"j("stored":1,"duplicates":1,"refused":{"too_far_in_future":1,)j"
                        R"j("too_old":1,"invalid":0}})j"));
  EXPECT_EQ(part.headers.Get("X-Nines-Refused-Samples"), "too_far_in_future=1, too_old=1");
  EXPECT_EQ(ParseRefusedSamples(part.headers.Get("X-Nines-Refused-Samples")),
            (std::vector<std::pair<std::string, int64_t>>{{"too_far_in_future", 1},
                                                          {"too_old", 1}}));
  EXPECT_EQ(part.headers.Get("X-Nines-Stored-Samples"), "1");
  EXPECT_EQ(store_.committed().size(), 4u);
  EXPECT_EQ(Metric("nines_remote_write_received_samples_total", {{"outcome", "appended"}}), 4);
  EXPECT_EQ(Metric("nines_remote_write_received_samples_total", {{"outcome", "duplicate"}}), 4);
  EXPECT_EQ(Metric("nines_remote_write_received_samples_total", {{"outcome", "too_old"}}), 4);
  EXPECT_EQ(
      Metric("nines_remote_write_received_samples_total", {{"outcome", "too_far_in_future"}}), 1);
  EXPECT_EQ(Metric("nines_remote_write_received_samples_total", {{"outcome", "invalid"}}), 0);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "204"}}), 2);
  EXPECT_EQ(Metric("nines_remote_write_requests_total", {{"code", "400"}}), 2);
}

TEST(RemoteWriteRefusedHeaderTest, ParsesWhatTheHandlerWritesAndSkipsJunk) {
  EXPECT_EQ(ParseRefusedSamples("too_old=3"),
            (std::vector<std::pair<std::string, int64_t>>{{"too_old", 3}}));
  EXPECT_EQ(ParseRefusedSamples(" a=1,b=x, =2,c=-1,d=4 ,e"),
            (std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"d", 4}}));
  EXPECT_TRUE(ParseRefusedSamples("").empty());
}

TEST_P(RemoteWriteHandlerTest, IgnoredHistogramsAreCounted) {
  Proto p;
  prompb::TimeSeries* ts = p.Series({{"__name__", "rpc_seconds"}}, 1);
  ts->add_histograms()->set_timestamp(5);
  EXPECT_EQ(Post(p.Body()).status, 204);
  EXPECT_EQ(Metric("nines_remote_write_ignored_total", {{"kind", "histogram"}}), 1);
  EXPECT_EQ(store_.committed().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Paths, RemoteWriteHandlerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "LabelViews" : "Labels";
                         });

TEST(RemoteWriteLabelViewsTest, HashIsTheLabelsHash) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::vector<core::Label> pairs = {{"__name__", "m" + std::to_string(rng() % 1000)}};
    const int n = static_cast<int>(rng() % 6);
    for (int j = 0; j < n; ++j) {
      pairs.push_back({"l" + std::to_string(j), std::string(rng() % 40 + 1, 'a' + j)});
    }
    Labels labels = *Labels::FromPairs(pairs);
    std::vector<store::LabelView> views;
    for (const core::Label& l : labels) views.push_back({l.name, l.value});
    EXPECT_EQ(store::HashLabelViews(views), labels.Hash()) << labels.ToString();
  }
}

// The receiver in front of the real store: series written through Appender::Append and through
// remote write's label views are one and the same; a series repeated within a request is created
// once; a request the view path declines (an invalid label name with an empty value, which is
// dropped) still lands; a stored series with a value that is not UTF-8 is still refused.
TEST(RemoteWriteIntoStoreTest, LabelViewsFindSeriesWrittenWithLabelsAndViceVersa) {
  testutil::TempDir dir;
  core::FakeClock clock(core::Timestamp::FromUnixSeconds(60));  // the samples are at 1-3 s
  StoreOptions options;
  options.dir = dir.File("db");
  auto opened = OpenStore(options, clock);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Store> store = std::move(*opened);
  auto registry = std::make_shared<prometheus::Registry>();
  net::Handler handler =
      RemoteWriteHandler([&store] { return store->NewAppender(); }, registry);
  auto post = [&handler](const std::string& body) {
    net::Request req;
    req.method = "POST";
    req.body = body;
    return handler(req).status;
  };

  const Labels up = L({{"__name__", "up"}, {"instance", "prober-us-east-1a:9099"}, {"job", "api"}});
  const Labels probe = L({{"__name__", "probe_success"},
                          {"region", "eu-west-1"},
                          {"target", "https://svc-0001.shop.example.com/healthz"}});
  {
    auto app = store->NewAppender();
    ASSERT_TRUE(app->Append(up, 1000, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  WriteRequest req;
  req.series.push_back({up, {{1000, 7}, {2000, 0}}});  // 1000: a duplicate
  req.series.push_back({probe, {{1000, 1}}});
  req.series.push_back({probe, {{2000, 0}}});  // the new series again, in the same request
  EXPECT_EQ(post(EncodeWriteRequest(req)), 204);

  Proto p;  // "1x" is an invalid name, but its empty value drops it
  p.Series({{"1x", ""}, {"__name__", "probe_success"}, {"region", "eu-west-1"},
            {"target", "https://svc-0001.shop.example.com/healthz"}},
           1);
  p.Series({{"__name__", "up"}, {"instance", "prober-us-east-1a:9099"}, {"job", "api"}}, 1);
  // Proto::Series' one sample is at t=1000: a duplicate for both series.
  EXPECT_EQ(post(p.Body()), 204);
  {
    auto app = store->NewAppender();
    ASSERT_TRUE(app->Append(probe, 3000, 1).ok());
    auto r = app->Commit();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->appended, 1);
  }

  // core::Labels does not require UTF-8 values, remote write does: a series stored with an
  // invalid value is still refused when remote write sends the same bytes.
  const Labels latin1 = L({{"__name__", "up"}, {"city", "K\xf6ln"}});
  {
    auto app = store->NewAppender();
    ASSERT_TRUE(app->Append(latin1, 1000, 1).ok());
    ASSERT_TRUE(app->Commit().ok());
  }
  WriteRequest bad;
  bad.series.push_back({latin1, {{2000, 1}}});
  EXPECT_EQ(post(EncodeWriteRequest(bad)), 400);
  ASSERT_TRUE(store->DeleteSeries(*ParseSelector(R"({city=~".+"})")).ok());

  auto all = store->Select(*ParseSelector(R"({__name__=~".+"})"), INT64_MIN, INT64_MAX);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].labels, probe);
  ASSERT_EQ((*all)[0].samples.size(), 3u);
  EXPECT_EQ((*all)[0].samples[0].timestamp_ms, 1000);
  EXPECT_EQ((*all)[0].samples[1].timestamp_ms, 2000);
  EXPECT_EQ((*all)[0].samples[2].timestamp_ms, 3000);
  EXPECT_EQ((*all)[1].labels, up);
  ASSERT_EQ((*all)[1].samples.size(), 2u);
  EXPECT_EQ((*all)[1].samples[0].value, 1);  // the first write of t=1000 is kept
  EXPECT_EQ((*all)[1].samples[1].value, 0);
  EXPECT_EQ(MetricValue(*registry, "nines_remote_write_received_samples_total",
                        {{"outcome", "appended"}}),
            3);
  EXPECT_EQ(MetricValue(*registry, "nines_remote_write_received_samples_total",
                        {{"outcome", "duplicate"}}),
            3);
}

}  // namespace
}  // namespace nines::remote
