#include "store/remote_write.h"

#include <google/protobuf/arena.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>
#include <snappy.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <climits>
#include <cstring>
#include <map>
#include <utility>

#include "core/json.h"
#include "core/log.h"
#include "remote_write.pb.h"
#include "store/series_appender.h"

namespace nines::store {
namespace {

using core::Result;
using core::Status;

// Quotes `text` for an error message: escapes '"', '\\' and bytes outside printable ASCII as
// \xHH, and shortens it, so that a hostile label cannot flood a log line or a response.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

// A refused series for an answer: its labels, cut (at a character boundary) when long.
std::string Example(const core::Labels& labels) {
  constexpr size_t kMaxShown = 200;
  std::string text = labels.ToString();
  if (text.size() <= kMaxShown) return text;
  size_t cut = kMaxShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
  return text + "...";
}

}  // namespace

bool internal::IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    // ASCII fast path, 8 bytes at a time.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t k = 2; k <= n; ++k) {
      if (p[k] < 0x80 || p[k] > 0xbf) return false;
    }
    p += n + 1;
  }
  return true;
}

namespace {

using internal::IsValidUtf8;

// Arena blocks sized to the request: a decoded message takes a few times its wire size.
google::protobuf::ArenaOptions ArenaOptionsFor(size_t wire_bytes) {
  google::protobuf::ArenaOptions options;
  options.start_block_size = internal::ArenaStartBlockSize(wire_bytes);
  options.max_block_size = 4 << 20;
  return options;
}

// The first problem of a series, in the order DecodeWriteRequest documents; OK when it has none.
// Only called once the fast path in ConvertSeries has found something wrong.
Status Diagnose(const prompb::TimeSeries& ts, size_t index) {
  const int n_labels = ts.labels_size();
  if (n_labels == 0) return core::InvalidArgumentError("series {} has no labels", index);
  std::string_view prev;
  bool has_name = false;
  for (int j = 0; j < n_labels; ++j) {
    const std::string_view name = ts.labels(j).name();
    const std::string_view value = ts.labels(j).value();
    if (name.empty()) {
      return core::InvalidArgumentError("label {} of series {} has an empty name", j, index);
    }
    if (!core::IsValidLabelName(name)) {
      return core::InvalidArgumentError("label name {} of series {} is invalid", Quote(name),
                                        index);
    }
    if (j > 0 && name < prev) {
      return core::InvalidArgumentError("labels of series {} are not sorted: {} after {}", index,
                                        Quote(name), Quote(prev));
    }
    if (j > 0 && name == prev) {
      return core::InvalidArgumentError("duplicate label name {} in series {}", Quote(name),
                                        index);
    }
    prev = name;
    if (value.empty()) continue;  // Empty means absent.
    if (!IsValidUtf8(value)) {
      return core::InvalidArgumentError("value of label {} of series {} is not valid UTF-8",
                                        Quote(name), index);
    }
    if (name == core::kMetricNameLabel) {
      if (!core::IsValidMetricName(value)) {
        return core::InvalidArgumentError("metric name {} of series {} is invalid", Quote(value),
                                          index);
      }
      has_name = true;
    }
  }
  if (!has_name) return core::InvalidArgumentError("series {} has no __name__ label", index);
  return Status::Ok();
}

TimeSeries WithSamples(core::Labels labels, const prompb::TimeSeries& ts);

Result<TimeSeries> ConvertSeries(const prompb::TimeSeries& ts, size_t index) {
  // Fast path: one pass for what core::Labels::FromPairs does not check (order, UTF-8, presence
  // of __name__); FromPairs validates the names. Any failure is re-examined by Diagnose, so the
  // message is the same whichever check caught it.
  const int n_labels = ts.labels_size();
  std::vector<core::Label> pairs;
  pairs.reserve(static_cast<size_t>(n_labels));
  std::string_view prev;
  bool has_name = false;
  bool ok = n_labels > 0;
  for (int j = 0; ok && j < n_labels; ++j) {
    const prompb::Label& label = ts.labels(j);
    const std::string_view name = label.name();
    const std::string_view value = label.value();
    if (name.empty() || (j > 0 && name <= prev)) {
      ok = false;
      break;
    }
    prev = name;
    if (value.empty()) continue;  // Empty means absent.
    if (!IsValidUtf8(value)) {
      ok = false;
      break;
    }
    if (name == core::kMetricNameLabel) has_name = true;
    pairs.push_back({label.name(), label.value()});
  }
  Status problem;
  if (ok && has_name) {
    Result<core::Labels> labels = core::Labels::FromSortedPairs(std::move(pairs));
    if (labels.ok()) return WithSamples(std::move(labels).value(), ts);
    problem = labels.status();
  }
  Status diagnosis = Diagnose(ts, index);
  if (!diagnosis.ok()) return diagnosis;
  // Not expected: the fast path and Diagnose disagree. Report what FromPairs said.
  return problem.ok() ? core::InternalError("series {}: labels rejected", index)
                      : problem.WithContext(fmt::format("series {}", index));
}

TimeSeries WithSamples(core::Labels labels, const prompb::TimeSeries& ts) {
  TimeSeries out{.labels = std::move(labels), .samples = {}};
  const int n_samples = ts.samples_size();
  out.samples.resize(static_cast<size_t>(n_samples));
  for (int k = 0; k < n_samples; ++k) {
    const prompb::Sample& s = ts.samples(k);
    out.samples[static_cast<size_t>(k)] = core::Sample{.timestamp_ms = s.timestamp(),
                                                       .value = s.value()};
  }
  return out;
}


// A zero-copy reader of the protobuf wire format for the common shape of a WriteRequest. It
// copies each label string once (into core::Labels) and nothing else; anything it does not
// expect (a known field with another wire type, groups, a label set that fails a check) makes it
// give up, and the caller decodes with the generated parser instead, which yields the exact
// protobuf semantics and error message. So it only has to be right, never complete.
class WireReader {
 public:
  static constexpr int kMaxVarint32Bytes = 5;

  explicit WireReader(std::string_view data)
      : p_(reinterpret_cast<const uint8_t*>(data.data())), end_(p_ + data.size()) {}

  bool done() const { return p_ >= end_; }

  // A field tag; field number 0 is invalid in protobuf, so it fails here too.
  // Tags and lengths are 32-bit varints, which the generated parser reads in at most 5 bytes: a
  // longer (zero-padded) encoding is malformed there, so it must not pass here.
  bool Tag(uint64_t* field, uint64_t* type) {
    uint64_t tag;
    if (!Varint(&tag, kMaxVarint32Bytes) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) {
      return false;
    }
    *field = tag >> 3;
    *type = tag & 7;
    return true;
  }

  bool Varint(uint64_t* v, int max_bytes = 10) {
    uint64_t result = 0;
    for (int shift = 0; shift < 7 * max_bytes && p_ < end_; shift += 7) {
      uint8_t b = *p_++;
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    std::memcpy(v, p_, 8);
    p_ += 8;
    return true;
  }
  bool Bytes(std::string_view* out) {
    uint64_t n;
    if (!Varint(&n, kMaxVarint32Bytes) || n > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  // Skips a field of wire type `type` (varint, fixed64, length-delimited or fixed32 only).
  bool Skip(uint64_t type) {
    uint64_t ignored;
    std::string_view bytes;
    switch (type) {
      case 0: return Varint(&ignored);
      case 1: return Fixed64(&ignored);
      case 2: return Bytes(&bytes);
      case 5:
        if (end_ - p_ < 4) return false;
        p_ += 4;
        return true;
      default: return false;  // groups: leave them to the generated parser
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Whether `data` is a message the generated parser accepts whose only message-typed field, if
// any, is `label_field` holding prompb.Label messages (which have bytes fields only): an
// Exemplar (labels at 1) or a MetricMetadata (0: no message fields). The fast path skips these
// messages, but must reject (by giving up) whatever the generated parser would reject, so it
// walks their wire format instead of jumping over them: a Label inside an Exemplar that runs
// past its end is a malformed request, not something to ignore.
bool SkippedMessageIsWellFormed(std::string_view data, uint64_t label_field) {
  WireReader r(data);
  while (!r.done()) {
    uint64_t field, type;
    if (!r.Tag(&field, &type)) return false;
    if (label_field != 0 && field == label_field && type == 2) {
      std::string_view label;
      if (!r.Bytes(&label) || !SkippedMessageIsWellFormed(label, 0)) return false;
    } else if (!r.Skip(type)) {
      return false;
    }
  }
  return true;
}

// Reads one TimeSeries message: its label pairs as they were sent (views into `data`) and its
// samples, counting skipped exemplars and histograms in `counts`. False means "use the
// generated parser".
bool ParseSeries(std::string_view data, std::vector<internal::LabelView>* labels,
                 std::vector<core::Sample>* samples, WriteRequest* counts) {
  WireReader r(data);
  labels->clear();
  samples->clear();
  while (!r.done()) {
    uint64_t field, type;
    if (!r.Tag(&field, &type)) return false;
    if (field == 1 || field == 2) {
      std::string_view body;
      if (type != 2 || !r.Bytes(&body)) return false;
      WireReader m(body);
      if (field == 1) {  // Label {1: name, 2: value}; the last occurrence of a field wins
        std::string_view name, value;
        while (!m.done()) {
          uint64_t f, t;
          if (!m.Tag(&f, &t)) return false;
          if (f == 1 && t == 2) {
            if (!m.Bytes(&name)) return false;
          } else if (f == 2 && t == 2) {
            if (!m.Bytes(&value)) return false;
          } else if (f == 1 || f == 2 || !m.Skip(t)) {
            return false;
          }
        }
        labels->push_back({name, value});
      } else {  // Sample {1: double value, 2: int64 timestamp}
        core::Sample sample;
        while (!m.done()) {
          uint64_t f, t, v;
          if (!m.Tag(&f, &t)) return false;
          if (f == 1 && t == 1) {
            if (!m.Fixed64(&v)) return false;
            sample.value = std::bit_cast<double>(v);
          } else if (f == 2 && t == 0) {
            if (!m.Varint(&v)) return false;
            sample.timestamp_ms = static_cast<int64_t>(v);
          } else if (f == 1 || f == 2 || !m.Skip(t)) {
            return false;
          }
        }
        samples->push_back(sample);
      }
    } else if (field == 3) {
      std::string_view exemplar;
      if (type != 2 || !r.Bytes(&exemplar) || !SkippedMessageIsWellFormed(exemplar, 1)) {
        return false;
      }
      ++counts->ignored_exemplars;
    } else if (field == 4) {
      // A native histogram's nested spans and packed arrays are left to the generated parser,
      // which alone says whether they are well-formed (found by fuzz/fuzz_remote_write).
      return false;
    } else if (!r.Skip(type)) {
      return false;
    }
  }
  return true;
}

// Every check DecodeWriteRequest makes of a series' labels (those of ConvertSeries and of
// core::Labels::FromSortedPairs), and drops the pairs with an empty value: afterwards `labels`
// hold what a core::Labels would. False on any problem (the generated parser's path then finds
// the message).
bool CheckLabels(std::vector<internal::LabelView>* labels) {
  if (labels->empty()) return false;
  bool has_name = false;
  size_t kept = 0;
  std::string_view prev;
  for (size_t j = 0; j < labels->size(); ++j) {
    const internal::LabelView l = (*labels)[j];
    if (l.name.empty() || (j > 0 && l.name <= prev) || !core::IsValidLabelName(l.name)) {
      return false;
    }
    prev = l.name;
    if (l.value.empty()) continue;  // Empty means absent.
    if (!IsValidUtf8(l.value)) return false;
    if (l.name == core::kMetricNameLabel) {
      if (!core::IsValidMetricName(l.value)) return false;
      has_name = true;
    }
    (*labels)[kept++] = l;
  }
  labels->resize(kept);
  return has_name;
}

// Decodes one TimeSeries message; false means "use the generated parser".
bool FastSeries(std::string_view data, WriteRequest* request) {
  std::vector<internal::LabelView> views;
  views.reserve(8);
  TimeSeries series;
  if (!ParseSeries(data, &views, &series.samples, request) || !CheckLabels(&views)) return false;
  std::vector<core::Label> pairs;
  pairs.reserve(views.size());
  for (const internal::LabelView& l : views) {
    pairs.push_back({std::string(l.name), std::string(l.value)});
  }
  auto labels = core::Labels::FromSortedPairs(std::move(pairs));
  if (!labels.ok()) return false;
  series.labels = std::move(labels).value();
  request->series.push_back(std::move(series));
  return true;
}

// Decodes a whole WriteRequest; false means "use the generated parser".
bool FastDecode(std::string_view data, WriteRequest* request) {
  WireReader r(data);
  while (!r.done()) {
    uint64_t field, type;
    if (!r.Tag(&field, &type)) return false;
    if (field == 1) {
      std::string_view body;
      if (type != 2 || !r.Bytes(&body) || !FastSeries(body, request)) return false;
    } else if (field == 3) {
      std::string_view metadata;
      if (type != 2 || !r.Bytes(&metadata) || !SkippedMessageIsWellFormed(metadata, 0)) {
        return false;
      }
      ++request->ignored_metadata;
    } else if (field == 2 || !r.Skip(type)) {
      return false;
    }
  }
  return true;
}

// The receiver's path for a request FastDecode would accept: every series goes straight from
// the decoded body into `appender`, with no core::Labels built for series the store has. Counts
// what was skipped in `counts` and samples of series the appender refused as invalid in
// `invalid`; an appender error that is not INVALID_ARGUMENT lands in `error`. Returns false
// (with part of the request staged: the caller rolls back) where FastDecode would give up.
bool AppendDecoded(std::string_view data, internal::SeriesAppender& appender,
                   WriteRequest* counts, int64_t* invalid, Status* error) {
  std::vector<internal::LabelView> labels;
  labels.reserve(8);
  std::vector<core::Sample> samples;
  samples.reserve(16);
  WireReader r(data);
  while (!r.done()) {
    uint64_t field, type;
    if (!r.Tag(&field, &type)) return false;
    if (field == 1) {
      std::string_view body;
      if (type != 2 || !r.Bytes(&body) || !ParseSeries(body, &labels, &samples, counts)) {
        return false;
      }
      // A series the store holds (with valid UTF-8 values) has valid labels.
      if (!samples.empty() &&
          appender.AppendKnownSeries(labels, internal::HashLabelViews(labels), samples)) {
        continue;
      }
      if (!CheckLabels(&labels)) return false;
      if (samples.empty()) continue;
      Status st = appender.AppendSeries(labels, internal::HashLabelViews(labels), samples);
      if (st.ok()) continue;
      if (st.code() != core::StatusCode::kInvalidArgument) {
        *error = std::move(st);
        return true;
      }
      *invalid += static_cast<int64_t>(samples.size());
    } else if (field == 3) {
      std::string_view metadata;
      if (type != 2 || !r.Bytes(&metadata) || !SkippedMessageIsWellFormed(metadata, 0)) {
        return false;
      }
      ++counts->ignored_metadata;
    } else if (field == 2 || !r.Skip(type)) {
      return false;
    }
  }
  return true;
}

// Where the receiver decompresses bodies: one buffer per server thread, reused, so a request
// costs no large allocation (and no heap consolidation after it).
class DecodeBuffer {
 public:
  char* Get(size_t n) {
    if (n > capacity_) {
      data_ = std::make_unique_for_overwrite<char[]>(n);
      capacity_ = n;
    }
    return data_.get();
  }
  // Gives back memory a rare large request took.
  void Trim() {
    if (capacity_ > kKeep) {
      data_.reset();
      capacity_ = 0;
    }
  }

 private:
  static constexpr size_t kKeep = 4 << 20;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
};

// Snappy-decompresses `body` into `buffer`; the result views it. Errors as DecodeWriteRequest.
Result<std::string_view> Decompress(std::string_view body, size_t max_decoded_bytes,
                                    DecodeBuffer* buffer) {
  size_t decoded_size = 0;
  if (!snappy::GetUncompressedLength(body.data(), body.size(), &decoded_size)) {
    return core::InvalidArgumentError(
        "body is not snappy-compressed (block format): cannot read the uncompressed length");
  }
  if (decoded_size > max_decoded_bytes || decoded_size > static_cast<size_t>(INT_MAX)) {
    return core::ResourceExhaustedError("decoded body would be {} bytes, over the limit of {} bytes",
                                        decoded_size, std::min<size_t>(max_decoded_bytes, INT_MAX));
  }
  // Not zero-filled: RawUncompress writes every byte or fails.
  char* out = buffer->Get(std::max<size_t>(decoded_size, 1));
  if (!snappy::RawUncompress(body.data(), body.size(), out)) {
    return core::InvalidArgumentError("body is not valid snappy (block format)");
  }
  return std::string_view(out, decoded_size);
}

// DecodeWriteRequest after the snappy step.
Result<WriteRequest> DecodeDecompressed(std::string_view decoded) {
  {
    WriteRequest fast;
    if (FastDecode(decoded, &fast)) return fast;
  }
  return internal::DecodeWithGeneratedParser(decoded);
}

}  // namespace

std::vector<std::pair<std::string, int64_t>> ParseRefusedSamples(std::string_view value) {
  std::vector<std::pair<std::string, int64_t>> out;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const size_t eq = item.find('=');
    if (eq == 0 || eq == std::string_view::npos) continue;
    int64_t n = 0;
    const std::string_view digits = item.substr(eq + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n < 0) continue;
    out.emplace_back(std::string(item.substr(0, eq)), n);
  }
  return out;
}

int64_t WriteRequest::SampleCount() const {
  int64_t n = 0;
  for (const TimeSeries& ts : series) n += static_cast<int64_t>(ts.samples.size());
  return n;
}

Result<WriteRequest> DecodeWriteRequest(std::string_view body, size_t max_decoded_bytes) {
  DecodeBuffer buffer;
  ASSIGN_OR_RETURN(std::string_view decoded, Decompress(body, max_decoded_bytes, &buffer));
  return DecodeDecompressed(decoded);
}

namespace internal {

size_t ArenaStartBlockSize(size_t wire_bytes) {
  // The arena keeps its cleanup list (destructors to run, e.g. of unknown-field sets) at the end
  // of a block, so a block size that is not a multiple of 8 misaligns it: UBSan's "misaligned
  // address for CleanupNode" (found by fuzz/fuzz_remote_write with a 2,111-byte body).
  const size_t size = std::clamp<size_t>(wire_bytes * 2, 4 << 10, 4 << 20);
  return (size + 15) & ~size_t{15};
}

Result<WriteRequest> DecodeWithGeneratedParser(std::string_view decoded) {
  const size_t decoded_size = decoded.size();
  google::protobuf::Arena arena(ArenaOptionsFor(decoded_size));
  auto* message = google::protobuf::Arena::CreateMessage<prompb::WriteRequest>(&arena);
  if (!message->ParseFromArray(decoded.data(), static_cast<int>(decoded_size))) {
    return core::InvalidArgumentError(
        "body is not a valid remote-write WriteRequest (truncated or malformed protobuf)");
  }

  WriteRequest request;
  const int n_series = message->timeseries_size();
  request.series.reserve(static_cast<size_t>(n_series));
  for (int i = 0; i < n_series; ++i) {
    const prompb::TimeSeries& ts = message->timeseries(i);
    ASSIGN_OR_RETURN(TimeSeries series, ConvertSeries(ts, static_cast<size_t>(i)));
    request.series.push_back(std::move(series));
    request.ignored_histograms += ts.histograms_size();
    request.ignored_exemplars += ts.exemplars_size();
  }
  request.ignored_metadata = message->metadata_size();
  return request;
}

}  // namespace internal

std::string EncodeWriteRequest(const WriteRequest& request) {
  return SnappyCompress(EncodeWriteRequestProto(request));
}

std::string SnappyCompress(std::string_view data) {
  std::string compressed(snappy::MaxCompressedLength(data.size()), '\0');
  size_t compressed_size = 0;
  snappy::RawCompress(data.data(), data.size(), compressed.data(), &compressed_size);
  compressed.resize(compressed_size);
  return compressed;
}

std::string EncodeWriteRequestProto(const WriteRequest& request) {
  size_t estimate = 16;
  for (const TimeSeries& ts : request.series) {
    estimate += 8 + 20 * ts.samples.size();
    for (const core::Label& l : ts.labels) estimate += 8 + l.name.size() + l.value.size();
  }
  google::protobuf::Arena arena(ArenaOptionsFor(estimate));
  auto* message = google::protobuf::Arena::CreateMessage<prompb::WriteRequest>(&arena);
  message->mutable_timeseries()->Reserve(static_cast<int>(request.series.size()));
  for (const TimeSeries& ts : request.series) {
    prompb::TimeSeries* out = message->add_timeseries();
    out->mutable_labels()->Reserve(static_cast<int>(ts.labels.size()));
    for (const core::Label& l : ts.labels) {
      prompb::Label* label = out->add_labels();
      label->set_name(l.name);
      label->set_value(l.value);
    }
    out->mutable_samples()->Reserve(static_cast<int>(ts.samples.size()));
    for (const core::Sample& s : ts.samples) {
      prompb::Sample* sample = out->add_samples();
      sample->set_value(s.value);
      sample->set_timestamp(s.timestamp_ms);
    }
  }
  std::string wire(message->ByteSizeLong(), '\0');
  message->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(wire.data()));
  return wire;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Content-Type: "application/x-protobuf", optionally with proto=prometheus.WriteRequest (the
// remote write 2.0 spec's name for 1.0 messages). Other parameters are ignored.
bool IsWriteRequestContentType(std::string_view value) {
  size_t semi = value.find(';');
  if (!net::EqualsIgnoreCase(Trim(value.substr(0, semi)), "application/x-protobuf")) return false;
  while (semi != std::string_view::npos) {
    value.remove_prefix(semi + 1);
    semi = value.find(';');
    std::string_view param = Trim(value.substr(0, semi));
    size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (!net::EqualsIgnoreCase(Trim(param.substr(0, eq)), "proto")) continue;
    std::string_view proto = Trim(param.substr(eq + 1));
    if (proto.size() >= 2 && proto.front() == '"' && proto.back() == '"') {
      proto = proto.substr(1, proto.size() - 2);
    }
    if (proto != "prometheus.WriteRequest") return false;
  }
  return true;
}

// "0.1.0" and any other 0.x or 1.x; remote write 2.0 ("2.0.0") is not spoken here.
bool IsSupportedVersion(std::string_view version) {
  version = Trim(version);
  return version == "0" || version == "1" || version.starts_with("0.") ||
         version.starts_with("1.");
}

struct HandlerState {
  std::function<std::unique_ptr<Appender>()> new_appender;
  size_t max_decoded_bytes = 0;
  prometheus::Counter* appended = nullptr;
  prometheus::Counter* duplicate = nullptr;
  prometheus::Counter* too_old = nullptr;
  prometheus::Counter* too_far_in_future = nullptr;
  prometheus::Counter* invalid = nullptr;
  prometheus::Counter* ignored_histograms = nullptr;
  prometheus::Counter* ignored_exemplars = nullptr;
  prometheus::Counter* ignored_metadata = nullptr;
  std::map<int, prometheus::Counter*> requests;  // by status code; fixed after construction

  net::Response Respond(net::Response response) const {
    requests.at(response.status)->Increment();
    return response;
  }
  net::Response Fail(int status, std::string_view reason) const {
    return Respond(net::Response::Error(status, reason));
  }

  net::Response DecodeFailure(const Status& s) const {
    const int status = s.code() == core::StatusCode::kResourceExhausted ? 413
                       : s.code() == core::StatusCode::kInvalidArgument  ? 400
                                                                          : 500;
    return Fail(status, s.message());
  }
  net::Response AppendFailed(Appender& appender, const Status& st) const {
    appender.Rollback();
    LOG_WARNING("remote write: append failed, nothing stored: {}", st.ToString());
    return Fail(st.code() == core::StatusCode::kUnavailable ? 503 : 500,
                "append failed: " + st.message());
  }

  net::Response Handle(const net::Request& req) const {
    if (req.headers.Has("Content-Type") &&
        !IsWriteRequestContentType(req.headers.Get("Content-Type"))) {
      return Fail(415, fmt::format("unsupported Content-Type {}: remote write needs "
                                   "application/x-protobuf",
                                   Quote(req.headers.Get("Content-Type"))));
    }
    if (req.headers.Has("Content-Encoding") &&
        !net::EqualsIgnoreCase(Trim(req.headers.Get("Content-Encoding")), "snappy")) {
      return Fail(415, fmt::format("unsupported Content-Encoding {}: remote write needs snappy",
                                   Quote(req.headers.Get("Content-Encoding"))));
    }
    if (req.headers.Has("X-Prometheus-Remote-Write-Version") &&
        !IsSupportedVersion(req.headers.Get("X-Prometheus-Remote-Write-Version"))) {
      return Fail(415, fmt::format("unsupported remote write version {}: this receiver speaks "
                                   "0.1.0",
                                   Quote(req.headers.Get("X-Prometheus-Remote-Write-Version"))));
    }

    thread_local DecodeBuffer buffer;
    struct TrimAfter {
      DecodeBuffer& b;
      ~TrimAfter() { b.Trim(); }
    } trim{buffer};
    Result<std::string_view> decompressed = Decompress(req.body, max_decoded_bytes, &buffer);
    if (!decompressed.ok()) return DecodeFailure(decompressed.status());
    const std::string_view body = *decompressed;

    std::unique_ptr<Appender> appender = new_appender();
    int64_t invalid_samples = 0;
    WriteRequest counts;  // the ignored_* counts
    bool staged = false;
    if (auto* series_appender = dynamic_cast<internal::SeriesAppender*>(appender.get())) {
      Status error;
      staged = AppendDecoded(body, *series_appender, &counts, &invalid_samples, &error);
      if (staged && !error.ok()) return AppendFailed(*appender, error);
      if (!staged) {
        appender->Rollback();
        counts = WriteRequest();
        invalid_samples = 0;
      }
    }
    if (!staged) {
      Result<WriteRequest> decoded = DecodeDecompressed(body);
      if (!decoded.ok()) return DecodeFailure(decoded.status());
      if (appender == nullptr) return Fail(503, "the store is not accepting writes");
      const WriteRequest& request = *decoded;
      counts.ignored_histograms = request.ignored_histograms;
      counts.ignored_exemplars = request.ignored_exemplars;
      counts.ignored_metadata = request.ignored_metadata;
      for (const TimeSeries& ts : request.series) {
        for (const core::Sample& s : ts.samples) {
          Status st = appender->Append(ts.labels, s.timestamp_ms, s.value);
          if (st.ok()) continue;
          if (st.code() == core::StatusCode::kInvalidArgument) {
            ++invalid_samples;
            continue;
          }
          return AppendFailed(*appender, st);
        }
      }
    }
    ignored_histograms->Increment(static_cast<double>(counts.ignored_histograms));
    ignored_exemplars->Increment(static_cast<double>(counts.ignored_exemplars));
    ignored_metadata->Increment(static_cast<double>(counts.ignored_metadata));
    Result<CommitResult> committed = appender->Commit();
    if (!committed.ok()) {
      const Status& s = committed.status();
      LOG_WARNING("remote write: commit failed, nothing stored: {}", s.ToString());
      return Fail(s.code() == core::StatusCode::kUnavailable ? 503 : 500,
                  "commit failed: " + s.message());
    }
    appended->Increment(static_cast<double>(committed->appended));
    duplicate->Increment(static_cast<double>(committed->duplicates));
    too_old->Increment(static_cast<double>(committed->too_old));
    too_far_in_future->Increment(static_cast<double>(committed->too_far_in_future));
    invalid->Increment(static_cast<double>(invalid_samples));
    if (committed->refused() == 0 && invalid_samples == 0) {
      return Respond(net::Response{.status = 204, .headers = {}, .body = {}});
    }
    return Respond(RefusedResponse(*committed, invalid_samples));
  }

  // 400 for a request some samples of which were refused. What could be stored is stored; the
  // rest can never be (a retry is refused again), so a 4xx is right: Prometheus' sender drops
  // the batch and logs the body's first line, nines' agent counts the refusal by reason from the
  // headers. A 2xx would tell the sender that everything arrived.
  static net::Response RefusedResponse(const CommitResult& r, int64_t invalid) {
    const int64_t refused = r.refused() + invalid;
    const int64_t total = refused + r.appended + r.duplicates;
    std::string message =
        refused == total
            ? fmt::format("refused all {} samples:", total)
            : fmt::format("refused {} of {} samples ({} stored, {} already stored):", refused,
                          total, r.appended, r.duplicates);
    const char* sep = " ";
    if (r.too_far_in_future > 0) {
      message += fmt::format(
          "{}{} too_far_in_future (after {}, the receiver's clock plus its future tolerance; "
          "e.g. {} at {})",
          sep, r.too_far_in_future, FormatTimestampMs(r.max_time_ms),
          Example(r.first_too_far_in_future.series),
          FormatTimestampMs(r.first_too_far_in_future.timestamp_ms));
      sep = "; ";
    }
    if (r.too_old > 0) {
      message += fmt::format(
          "{}{} too_old (before {}, the receiver's clock minus its out-of-order window, or not "
          "after what the series already settled; e.g. {} at {})",
          sep, r.too_old, FormatTimestampMs(r.min_time_ms), Example(r.first_too_old.series),
          FormatTimestampMs(r.first_too_old.timestamp_ms));
      sep = "; ";
    }
    if (invalid > 0) message += fmt::format("{}{} invalid (series without a metric name)", sep,
                                            invalid);
    const std::pair<std::string_view, int64_t> reasons[] = {
        {"too_far_in_future", r.too_far_in_future}, {"too_old", r.too_old}, {"invalid", invalid}};
    std::string body = R"({"status":"error","errorType":"bad_data","error":)";
    core::AppendJsonString(&body, message);
    body += fmt::format(R"(,"stored":{},"duplicates":{},"refused":{{)", r.appended,
                        r.duplicates);
    std::string header;
    for (size_t i = 0; i < std::size(reasons); ++i) {
      body += fmt::format(R"({}"{}":{})", i > 0 ? "," : "", reasons[i].first, reasons[i].second);
      if (reasons[i].second == 0) continue;
      if (!header.empty()) header += ", ";
      header += fmt::format("{}={}", reasons[i].first, reasons[i].second);
    }
    body += "}}";
    net::Response response = net::Response::Json(400, std::move(body));
    response.headers.Set(std::string(kRefusedSamplesHeader), header);
    response.headers.Set(std::string(kStoredSamplesHeader), std::to_string(r.appended));
    return response;
  }
};

}  // namespace

net::Handler RemoteWriteHandler(std::function<std::unique_ptr<Appender>()> new_appender,
                                std::shared_ptr<prometheus::Registry> registry,
                                size_t max_decoded_bytes) {
  auto state = std::make_shared<HandlerState>();
  state->new_appender = std::move(new_appender);
  state->max_decoded_bytes = max_decoded_bytes;
  auto& samples = prometheus::BuildCounter()
                      .Name("nines_remote_write_received_samples_total")
                      .Help("Samples received by remote write, by what the store did with them.")
                      .Register(*registry);
  state->appended = &samples.Add({{"outcome", "appended"}});
  state->duplicate = &samples.Add({{"outcome", "duplicate"}});
  state->too_old = &samples.Add({{"outcome", "too_old"}});
  state->too_far_in_future = &samples.Add({{"outcome", "too_far_in_future"}});
  state->invalid = &samples.Add({{"outcome", "invalid"}});
  auto& requests = prometheus::BuildCounter()
                       .Name("nines_remote_write_requests_total")
                       .Help("Remote-write requests received, by response status code.")
                       .Register(*registry);
  for (int code : {204, 400, 413, 415, 500, 503}) {
    state->requests[code] = &requests.Add({{"code", std::to_string(code)}});
  }
  auto& ignored = prometheus::BuildCounter()
                      .Name("nines_remote_write_ignored_total")
                      .Help("Native histogram samples, exemplars and metadata entries received "
                            "by remote write and skipped.")
                      .Register(*registry);
  state->ignored_histograms = &ignored.Add({{"kind", "histogram"}});
  state->ignored_exemplars = &ignored.Add({{"kind", "exemplar"}});
  state->ignored_metadata = &ignored.Add({{"kind", "metadata"}});
  return [state](const net::Request& req) { return state->Handle(req); };
}

}  // namespace nines::store
