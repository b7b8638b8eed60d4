// core/state_file.h: small durable state files, as the rule engine's alert state and the
// alerting service's silences, alerts and notification log keep them.
//
//  - WriteFileAtomic: the whole file replaced at once (temp file, fsync, rename, fsync of the
//    directory), so what is on disk is always the previous or the new contents, even after
//    kill -9 (and after a power loss when `sync`).
//  - ReadFile: a file's whole contents, or nullopt when it does not exist.
//  - SetAside: a corrupt file renamed to "<path>.corrupt" (kept for inspection).
//  - Records: text records, one per line, fields separated by tabs; in each field backslash, tab
//    and newline are written as \\, \t, \n (AppendField, UnescapeField, SplitFields).
//  - EncodeSnapshot / DecodeSnapshot: a snapshot file of records framed by a header line
//    "MAGIC<TAB>VERSION" and an end line "end<TAB>COUNT<TAB>CHECKSUM" (Hash64, hex, of every byte
//    before the end line), so a truncated or corrupt file is detected, never half-read.
//  - SealRecord / OpenRecord: one line carrying its own checksum, for append-only logs whose
//    torn or corrupt lines are detected one by one.
//
// Thread-safety: stateless functions; callers serialise writes to one path.
#ifndef NINES_CORE_STATE_FILE_H_
#define NINES_CORE_STATE_FILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace nines::core {

// Replaces `path` with `contents` atomically (see above). `sync` false skips the fsyncs: the
// write stays atomic against kill -9, not against power loss (tests).
// Errors: UNAVAILABLE naming the path and the failing step; the old file is then unchanged.
Status WriteFileAtomic(const std::string& path, std::string_view contents, bool sync);

// The contents of `path`; nullopt when it does not exist. Errors: UNAVAILABLE (permissions, I/O).
Result<std::optional<std::string>> ReadFile(const std::string& path);

// fsyncs the directory holding `path` (so a new file's or a rename's entry is durable).
// Errors: UNAVAILABLE.
Status SyncParentDir(const std::string& path);

// Renames `path` to `path + ".corrupt"` (replacing an older one) and returns `why` with
// " (moved to <path>.corrupt)" appended, or with the rename's failure when it failed.
Status SetAside(const std::string& path, const Status& why);

// Appends `field` escaped (\\, \t, \n) to `out`.
void AppendField(std::string* out, std::string_view field);
// Appends a tab then `field` escaped.
void AppendTabField(std::string* out, std::string_view field);
// Undoes AppendField's escaping into `out`; false on a bad escape.
bool UnescapeField(std::string_view in, std::string* out);
// The tab-separated fields of `line` (still escaped).
std::vector<std::string_view> SplitFields(std::string_view line);
// Parses a whole decimal (base 10) or hex (base 16) integer; false on anything else.
bool ParseInt64(std::string_view s, int64_t* v);
bool ParseUint64(std::string_view s, uint64_t* v, int base = 10);

// A snapshot file: "MAGIC\tVERSION\n", `records` (each a line without its newline), then the
// end line with the count and the checksum.
std::string EncodeSnapshot(std::string_view magic, int version,
                           const std::vector<std::string>& records);

// The record lines of a snapshot file (views into `data`) and the version it was written with.
// Errors: DATA_LOSS (empty, truncated, not this magic, checksum mismatch, count mismatch),
// FAILED_PRECONDITION (a version above `max_version`); messages start with `origin`.
struct SnapshotRecords {
  int version = 0;
  std::vector<std::string_view> records;
  // The line number (1-based, in the file) of records[i] is i + 2.
};
Result<SnapshotRecords> DecodeSnapshot(std::string_view data, std::string_view magic,
                                       int max_version, std::string_view origin);

// `record` (one line, no newline) with a tab and its checksum (Hash64, 16 hex digits) and a
// newline appended: a line of an append-only log.
std::string SealRecord(std::string_view record);
// The record of a sealed line (without its newline); nullopt when its checksum does not match.
std::optional<std::string_view> OpenRecord(std::string_view line);

}  // namespace nines::core

#endif  // NINES_CORE_STATE_FILE_H_
