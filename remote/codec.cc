// The remote-write codec: snappy, the generated protobuf parser (the exact path, and the one
// that words every error) and the encoder. The zero-copy fast path that decodes most requests is
// in fast_path.cc.
#include <fmt/format.h>
#include <google/protobuf/arena.h>
#include <snappy.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "core/labels.h"
#include "core/utf8.h"
#include "remote/codec_impl.h"
#include "remote/remote.h"
#include "remote_write.pb.h"

namespace nines::remote {
namespace internal {

using core::Result;

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

Result<WriteRequest> DecodeDecompressed(std::string_view decoded) {
  {
    WriteRequest fast;
    if (FastDecode(decoded, &fast)) return fast;
  }
  return DecodeWithGeneratedParser(decoded);
}

}  // namespace internal

namespace {

using core::Result;
using core::Status;
using internal::Quote;

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
    if (!core::IsValidUtf8(value)) {
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
    if (!core::IsValidUtf8(value)) {
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

}  // namespace

int64_t WriteRequest::SampleCount() const {
  int64_t n = 0;
  for (const TimeSeries& ts : series) n += static_cast<int64_t>(ts.samples.size());
  return n;
}

Result<WriteRequest> DecodeWriteRequest(std::string_view body, size_t max_decoded_bytes) {
  internal::DecodeBuffer buffer;
  ASSIGN_OR_RETURN(std::string_view decoded,
                   internal::Decompress(body, max_decoded_bytes, &buffer));
  return internal::DecodeDecompressed(decoded);
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

}  // namespace nines::remote
