// The remote-write receiver's zero-copy fast path: a reader of the protobuf wire format for the
// common shape of a WriteRequest, which hands each series' labels to the store as views into the
// decompressed body (see codec_impl.h).
#include <bit>
#include <cstring>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/utf8.h"
#include "remote/codec_impl.h"
#include "store/series_appender.h"

namespace nines::remote::internal {
namespace {

using core::Status;

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
bool ParseSeries(std::string_view data, std::vector<store::LabelView>* labels,
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
bool CheckLabels(std::vector<store::LabelView>* labels) {
  if (labels->empty()) return false;
  bool has_name = false;
  size_t kept = 0;
  std::string_view prev;
  for (size_t j = 0; j < labels->size(); ++j) {
    const store::LabelView l = (*labels)[j];
    if (l.name.empty() || (j > 0 && l.name <= prev) || !core::IsValidLabelName(l.name)) {
      return false;
    }
    prev = l.name;
    if (l.value.empty()) continue;  // Empty means absent.
    if (!core::IsValidUtf8(l.value)) return false;
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
  std::vector<store::LabelView> views;
  views.reserve(8);
  TimeSeries series;
  if (!ParseSeries(data, &views, &series.samples, request) || !CheckLabels(&views)) return false;
  std::vector<core::Label> pairs;
  pairs.reserve(views.size());
  for (const store::LabelView& l : views) {
    pairs.push_back({std::string(l.name), std::string(l.value)});
  }
  auto labels = core::Labels::FromSortedPairs(std::move(pairs));
  if (!labels.ok()) return false;
  series.labels = std::move(labels).value();
  request->series.push_back(std::move(series));
  return true;
}

}  // namespace

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
bool AppendDecoded(std::string_view data, store::SeriesAppender& appender,
                   WriteRequest* counts, int64_t* invalid, Status* error) {
  std::vector<store::LabelView> labels;
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
          appender.AppendKnownSeries(labels, store::HashLabelViews(labels), samples)) {
        continue;
      }
      if (!CheckLabels(&labels)) return false;
      if (samples.empty()) continue;
      Status st = appender.AppendSeries(labels, store::HashLabelViews(labels), samples);
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

}  // namespace nines::remote::internal
