// remote/: Prometheus remote write 1.0 (protocol 0.1.0), the module's public header: the body
// codec and the HTTP receiver (POST /api/v1/write) that appends into a store::Appender. The
// sender (RemoteWriteClient, RemoteWriteQueue) is in remote/sender.h.
//
// The wire format is a prompb WriteRequest (see remote_write.proto), protobuf-encoded and then
// compressed with snappy's block format (not its framing format). This header exposes only nines
// types; protobuf and snappy stay inside remote/. The receiver appends through store/'s
// interfaces (store::Appender, and store::SeriesAppender's zero-copy path when the appender
// offers it); store/ knows nothing of remote write.
//
// Thread-safety: DecodeWriteRequest and EncodeWriteRequest are thread-safe (no shared state). The
// handler returned by RemoteWriteHandler may be called concurrently from many server threads; it
// takes a fresh Appender per request.
#ifndef NINES_REMOTE_REMOTE_H_
#define NINES_REMOTE_REMOTE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "net/net.h"
#include "store/store.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace nines::remote {

// One series of a remote-write request, with its samples in the order they were sent.
struct TimeSeries {
  core::Labels labels;
  std::vector<core::Sample> samples;
};

struct WriteRequest {
  std::vector<TimeSeries> series;
  // What a decoded request carried that nines does not store (always 0 when encoding; the
  // encoder never writes them). Native histogram samples and exemplars are skipped, not errors,
  // as a receiver without those features does; metadata entries likewise.
  int64_t ignored_histograms = 0;
  int64_t ignored_exemplars = 0;
  int64_t ignored_metadata = 0;

  // Samples over all series.
  int64_t SampleCount() const;
};

// The default for max_decoded_bytes: 32 MiB of uncompressed protobuf, the same bound Prometheus
// places on a remote-write body.
inline constexpr size_t kDefaultMaxDecodedBytes = 32 << 20;

// Decodes a POST /api/v1/write body: snappy block format, then a prompb.WriteRequest.
//
// Every series is validated as the remote-write spec requires; series are numbered from 0 and
// labels within a series from 0 in the messages:
// - label names must be valid ([a-zA-Z_][a-zA-Z0-9_]*), non-empty, strictly ascending by bytes
//   (so unique), and every value valid UTF-8;
// - labels with an empty value are dropped (Prometheus semantics: empty means absent);
// - "__name__" must be present (non-empty) and a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
// Samples are not checked: every double (NaN, the staleness marker and +-Inf included) and every
// timestamp is passed on bit for bit; a series without samples is kept. Native histograms,
// exemplars and metadata are skipped and counted in the result's ignored_* fields.
//
// Errors, with these messages (N is the series' index, J the label's):
//   RESOURCE_EXHAUSTED "decoded body would be B bytes, over the limit of M bytes"
//   INVALID_ARGUMENT   "body is not snappy-compressed (block format): cannot read the
//                       uncompressed length" / "body is not valid snappy (block format)" /
//                      "body is not a valid remote-write WriteRequest (truncated or malformed
//                       protobuf)" /
//                      "series N has no labels" /
//                      "label J of series N has an empty name" /
//                      "label name \"1x\" of series N is invalid" /
//                      "labels of series N are not sorted: \"job\" after \"region\"" /
//                      "duplicate label name \"job\" in series N" /
//                      "value of label \"job\" of series N is not valid UTF-8" /
//                      "series N has no __name__ label" /
//                      "metric name \"1x\" of series N is invalid"
// The first problem found is reported; nothing of a request with an error is returned.
core::Result<WriteRequest> DecodeWriteRequest(std::string_view body,
                                              size_t max_decoded_bytes = kDefaultMaxDecodedBytes);

// Encodes `request` as a remote-write body: protobuf, then snappy block format. Series and
// samples keep their order; labels are already sorted and valid (core::Labels guarantees it), so
// the result always decodes. ignored_* fields are not encoded.
std::string EncodeWriteRequest(const WriteRequest& request);

// EncodeWriteRequest without the snappy step: the protobuf bytes. WriteRequest's only encoded
// field is the repeated `timeseries`, so the concatenation of several such encodings is the
// encoding of the request holding all their series (the agent's queue batches records this way).
std::string EncodeWriteRequestProto(const WriteRequest& request);

// Snappy block-format compression, as remote-write bodies use.
std::string SnappyCompress(std::string_view data);

// The POST /api/v1/write handler (register it with Access::kWrite). Per request it:
// 1. answers 415 when Content-Type is given and is not application/x-protobuf (parameters other
//    than proto=prometheus.WriteRequest included), when Content-Encoding is given and is not
//    snappy, or when X-Prometheus-Remote-Write-Version is given and its major version is not 0
//    or 1 (remote write 2.0 senders fall back to 1.0 on 415);
// 2. decodes the body (DecodeWriteRequest with max_decoded_bytes): 400 with the decoder's reason
//    for a malformed body, 413 when the decoded size exceeds the limit (a body over the server's
//    max_body_bytes is already answered 413 by net::Server);
// 3. appends every sample to a fresh appender from `new_appender` and commits;
// 4. answers 204 only after Commit() succeeded and stored every sample (or held it already: a
//    duplicate is not a refusal, so a sender's retry of a batch it already delivered gets 204);
// 5. answers 400 when the store refused samples (too_old, too_far_in_future; see
//    store::CommitResult) or some were invalid, after storing the rest: a refused sample is
//    never answered as stored, and can never be stored, so the sender should not retry it
//    (Prometheus' sender drops a batch on a 4xx and retries on a 5xx). The body is
//      {"status":"error","errorType":"bad_data","error":"refused 2 of 5 samples (3 stored, 0
//       already stored): 2 too_far_in_future (after <time>, ...; e.g. <series> at <time>)",
//       "stored":3,"duplicates":0,"refused":{"too_far_in_future":2,"too_old":0,"invalid":0}}
//    ("refused all N samples: ..." when nothing was stored), and the headers
//      X-Nines-Refused-Samples: too_far_in_future=2   (each reason with a count, ", "-separated)
//      X-Nines-Stored-Samples: 3
//    let a sender count refusals by reason without parsing JSON (ParseRefusedSamples).
// A failed commit (nothing stored) is answered 503 when the store reports UNAVAILABLE and 500
// otherwise, so that senders retry; `new_appender` returning null is answered 503. Error bodies
// are net::Response::Error JSON ({"status":"error","error":"<reason>"}).
//
// Metrics registered in `registry` (REQUIRES: not null):
//   nines_remote_write_received_samples_total{outcome="appended|duplicate|too_old|
//                                                      too_far_in_future|invalid"}
//   nines_remote_write_requests_total{code="204|400|413|415|500|503"}
//   nines_remote_write_ignored_total{kind="histogram|exemplar|metadata"}
// `new_appender` is called from server threads, concurrently; what it captures must outlive
// the handler.
net::Handler RemoteWriteHandler(
    std::function<std::unique_ptr<store::Appender>()> new_appender,
    std::shared_ptr<prometheus::Registry> registry,
    size_t max_decoded_bytes = kDefaultMaxDecodedBytes);

// The headers of RemoteWriteHandler's 400 answer for refused samples (see there).
inline constexpr std::string_view kRefusedSamplesHeader = "X-Nines-Refused-Samples";
inline constexpr std::string_view kStoredSamplesHeader = "X-Nines-Stored-Samples";

// Parses an X-Nines-Refused-Samples value ("too_old=3, too_far_in_future=2") into (reason,
// count) pairs, in order. Malformed items are skipped.
std::vector<std::pair<std::string, int64_t>> ParseRefusedSamples(std::string_view value);

namespace internal {
// DecodeWriteRequest's fallback for what its zero-copy fast path does not handle: the protobuf
// library's parser, on the already-decompressed body. Exposed for the tests that check that both
// paths agree.
core::Result<WriteRequest> DecodeWithGeneratedParser(std::string_view decoded);

// The first block size of the protobuf arena that decodes or encodes `wire_bytes` of protobuf:
// about twice that, within [4 KiB, 4 MiB], and always a multiple of 16 (the arena's alignment).
size_t ArenaStartBlockSize(size_t wire_bytes);
}  // namespace internal

}  // namespace nines::remote

#endif  // NINES_REMOTE_REMOTE_H_
