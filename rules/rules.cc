#include "rules/rules.h"

namespace nines::rules {

std::string_view ComparisonName(Comparison c) {
  switch (c) {
    case Comparison::kLess:
      return "<";
    case Comparison::kLessEqual:
      return "<=";
    case Comparison::kEqual:
      return "==";
    case Comparison::kNotEqual:
      return "!=";
    case Comparison::kGreaterEqual:
      return ">=";
    case Comparison::kGreater:
      return ">";
  }
  return "?";
}

bool Compare(double value, Comparison c, double threshold) {
  switch (c) {
    case Comparison::kLess:
      return value < threshold;
    case Comparison::kLessEqual:
      return value <= threshold;
    case Comparison::kEqual:
      return value == threshold;
    case Comparison::kNotEqual:
      return value != threshold;
    case Comparison::kGreaterEqual:
      return value >= threshold;
    case Comparison::kGreater:
      return value > threshold;
  }
  return false;
}

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
    case AlertState::kResolved:
      return "resolved";
  }
  return "?";
}

}  // namespace nines::rules
