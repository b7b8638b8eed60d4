// alerting/state_files.h: the alerting service's snapshot files, beside the notification log
// (alerting/notification_log.h): the alerts the dispatcher holds and the silences.
//
// Both are snapshot files as core/state_file.h frames them (a "MAGIC<TAB>VERSION" header, one
// record per line, an end line with the count and a checksum), written whole and atomically
// (core::WriteFileAtomic), so what is on disk is always a complete earlier or later state, even
// after kill -9. A version above this build's is refused, never guessed at.
//
//   nines-alerting-alerts<TAB>1
//   alert<TAB>STATUS<TAB>STARTS_AT<TAB>ENDS_AT<TAB>GENERATOR_URL<TAB>VALUE
//        <TAB>N<TAB>(NAME<TAB>VALUE)*N<TAB>M<TAB>(KEY<TAB>VALUE)*M
//   nines-alerting-silences<TAB>1
//   silence<TAB>ID<TAB>STARTS_AT<TAB>ENDS_AT<TAB>UPDATED_AT<TAB>CREATED_BY<TAB>COMMENT
//        <TAB>N<TAB>(TYPE<TAB>NAME<TAB>VALUE)*N
// STATUS is firing|resolved; times are Unix nanoseconds; VALUE the IEEE-754 bits in hex; TYPE
// the matcher's operator (=, !=, =~, !~).
//
// Thread-safety: stateless functions.
#ifndef NINES_ALERTING_STATE_FILES_H_
#define NINES_ALERTING_STATE_FILES_H_

#include <string>
#include <string_view>
#include <vector>

#include "alerting/alerting.h"
#include "alerting/silence.h"
#include "core/status.h"

namespace nines::alerting {

std::string EncodeAlertsFile(const std::vector<Alert>& alerts);
// Errors: DATA_LOSS (truncated, corrupt, unparsable; names `origin` and the line),
// FAILED_PRECONDITION (a newer version).
core::Result<std::vector<Alert>> DecodeAlertsFile(std::string_view data, std::string_view origin);

std::string EncodeSilencesFile(const std::vector<Silence>& silences);
// Errors: as DecodeAlertsFile.
core::Result<std::vector<Silence>> DecodeSilencesFile(std::string_view data,
                                                      std::string_view origin);

// Reads the snapshot at `path` with `decode`: an absent file is empty; a DATA_LOSS one is set
// aside as "<path>.corrupt", logged as an error, and empty. Errors: UNAVAILABLE when it cannot
// be read, FAILED_PRECONDITION when a newer nines wrote it (left alone).
template <typename T>
core::Result<std::vector<T>> LoadStateFile(
    const std::string& path,
    core::Result<std::vector<T>> (*decode)(std::string_view, std::string_view));

}  // namespace nines::alerting

#endif  // NINES_ALERTING_STATE_FILES_H_
