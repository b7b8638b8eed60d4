// core: the vocabulary every nines module shares. Include this, or the one named header you need:
//   core/status.h  Status, Result<T>, RETURN_IF_ERROR, ASSIGN_OR_RETURN
//   core/time.h    Duration, Timestamp, ParseDuration, ParseTimestamp
//   core/clock.h   Clock, RealClock(), FakeClock
//   core/labels.h  Label, Labels, ParseLabels, Sample, Hash64
//   core/log.h     LOG_INFO and friends
//   core/json.h    AppendJsonString
//   core/regex.h   Regex (RE2 syntax = Go's; linear-time matching)
// core depends on fmt, and on RE2 inside core/regex.cc only.
#ifndef NINES_CORE_CORE_H_
#define NINES_CORE_CORE_H_

#include "core/clock.h"
#include "core/json.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/regex.h"
#include "core/status.h"
#include "core/time.h"

#endif  // NINES_CORE_CORE_H_
