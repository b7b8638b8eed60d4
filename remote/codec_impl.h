// Private to remote/: what the remote-write codec (codec.cc), its zero-copy fast path
// (fast_path.cc) and the receiver (receiver.cc) share. Not part of the module's API.
//
// Thread-safety: the functions are thread-safe (no shared state); a DecodeBuffer is used by one
// thread at a time (the receiver keeps one per server thread).
#ifndef NINES_REMOTE_CODEC_IMPL_H_
#define NINES_REMOTE_CODEC_IMPL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "remote/remote.h"
#include "store/series_appender.h"

namespace nines::remote::internal {

// Quotes `text` for an error message: escapes '"', '\\' and bytes outside printable ASCII as
// \xHH, and shortens it, so that a hostile label cannot flood a log line or a response.
std::string Quote(std::string_view text);

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
core::Result<std::string_view> Decompress(std::string_view body, size_t max_decoded_bytes,
                                          DecodeBuffer* buffer);

// DecodeWriteRequest after the snappy step: the fast path, else the generated parser.
core::Result<WriteRequest> DecodeDecompressed(std::string_view decoded);

// The zero-copy reader (fast_path.cc). It handles the common shape of a WriteRequest and gives
// up on anything else; the generated parser then decodes the request, with the exact protobuf
// semantics and error messages. So it only has to be right, never complete.

// Decodes a whole WriteRequest; false means "use the generated parser".
bool FastDecode(std::string_view data, WriteRequest* request);

// The receiver's path for a request FastDecode would accept: every series goes straight from
// the decoded body into `appender`, with no core::Labels built for series the store has. Counts
// what was skipped in `counts` and samples of series the appender refused as invalid in
// `invalid`; an appender error that is not INVALID_ARGUMENT lands in `error`. Returns false
// (with part of the request staged: the caller rolls back) where FastDecode would give up.
bool AppendDecoded(std::string_view data, store::SeriesAppender& appender,
                   WriteRequest* counts, int64_t* invalid, core::Status* error);

}  // namespace nines::remote::internal

#endif  // NINES_REMOTE_CODEC_IMPL_H_
