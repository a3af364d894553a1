// The value of one sample (an exact integer or a double) and the three metric types.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <string_view>

namespace meshvpn::metrics {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram };
// "counter", "gauge", "histogram" (the words of the TYPE line).
std::string_view ToString(MetricType type);

// A sample's value: counts stay exact integers (a uint64_t is printed as one, never through a
// double); everything else is a double. Converts implicitly from any integer or floating type,
// so a callback may return a uint64_t field or a computed double alike.
class Value {
 public:
  constexpr Value() = default;
  constexpr Value(double v) : real_(v), is_integer_(false) {}  // NOLINT: implicit by design
  template <std::integral T>
  constexpr Value(T v) {  // NOLINT: implicit by design
    if constexpr (std::is_signed_v<T>) {
      if (v < 0) {
        real_ = static_cast<double>(v);
        return;
      }
    }
    integer_ = static_cast<uint64_t>(v);
    real_ = static_cast<double>(v);
    is_integer_ = true;
  }

  constexpr bool is_integer() const { return is_integer_; }
  // Meaningful when is_integer().
  constexpr uint64_t integer() const { return integer_; }
  // The value as a double (rounded for integers above 2^53).
  constexpr double real() const { return real_; }

  friend constexpr bool operator==(const Value& a, const Value& b) {
    if (a.is_integer_ && b.is_integer_) return a.integer_ == b.integer_;
    return a.is_integer_ == b.is_integer_ && a.real_ == b.real_;
  }

 private:
  double real_ = 0;
  uint64_t integer_ = 0;
  bool is_integer_ = true;
};

}  // namespace meshvpn::metrics
