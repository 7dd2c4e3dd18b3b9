#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// What the fuzz targets share: an invariant check that aborts (libFuzzer
// and the GoogleTest runner both report an abort as a crash, with the
// input), and small helpers to cut an input into parts.
namespace parley::fuzz {

[[noreturn]] inline void check_failed(const char* condition, const char* file,
                                      int line) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line,
               condition);
  std::abort();
}

} // namespace parley::fuzz

/// Aborts with the condition's text when it does not hold.
#define FUZZ_CHECK(condition)                                                  \
  do {                                                                         \
    if (!(condition))                                                          \
      ::parley::fuzz::check_failed(#condition, __FILE__, __LINE__);            \
  } while (false)

namespace parley::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return size == 0 ? std::string_view{}
                   : std::string_view{reinterpret_cast<const char*>(data),
                                      size};
}

/// Splits at '\n' (a trailing '\r' stays: the parsers see it).
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

/// The first line and the rest after its '\n' (empty when there is none).
inline std::pair<std::string_view, std::string_view>
first_line(std::string_view text) {
  auto end = text.find('\n');
  if (end == std::string_view::npos)
    return {text, {}};
  return {text.substr(0, end), text.substr(end + 1)};
}

/// A small deterministic generator, for choices derived from the input
/// (split points, orders) that must be the same on every run.
class lcg {
public:
  explicit lcg(std::uint64_t seed) : state_(seed * 6364136223846793005ULL + 1) {
  }

  std::uint64_t next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return state_ >> 33;
  }

  /// In [0, bound); bound > 0.
  std::size_t below(std::size_t bound) {
    return static_cast<std::size_t>(next() % bound);
  }

private:
  std::uint64_t state_;
};

/// FNV-1a of the input: a seed for lcg.
inline std::uint64_t hash_of(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

} // namespace parley::fuzz
