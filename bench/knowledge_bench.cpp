// parley-bench-knowledge: the knowledge search alone, single-threaded
// (tools/bench, scenario 5). It writes a deterministic corpus of Markdown
// files into a temporary folder, loads it through agent::knowledge_base as
// the server's knowledge actor does (the Markdown splitter, the tokenizer
// and the BM25 index), then times a fixed mix of queries, some matching and
// some not, after a warm-up. Prints a short report, or one line of JSON
// with --json (the fields of parley-loadgen's report that tools/bench
// reads: mode, throughput_per_s, latency_ms in milliseconds).

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/knowledge_base.hpp"
#include "tools/loadgen/latency_histogram.hpp"

namespace fs = std::filesystem;

namespace {

constexpr std::string_view usage_text =
  "Usage: parley-bench-knowledge [options]\n"
  "  --sections N   sections in the corpus (default 10000; 50 a file)\n"
  "  --queries N    measured queries (default 2000)\n"
  "  --warmup N     queries run first and not measured (default: as many "
  "as --queries, at most 1000)\n"
  "  --seed S       the corpus and query generator's seed (default 1)\n"
  "  --top-k K      matches a query asks for (default 3, the server's)\n"
  "  --json         print the report as one line of JSON\n"
  "  --keep         keep the corpus folder (its path goes to stderr)\n";

constexpr std::size_t sections_per_file = 50;

/// Draws from std::mt19937_64, whose output the standard fixes (its
/// distributions it does not), so a seed gives the same corpus everywhere.
class prng {
public:
  explicit prng(std::uint64_t seed) : engine_(seed) {
    // nop
  }

  /// In [lo, hi].
  std::size_t between(std::size_t lo, std::size_t hi) noexcept {
    return lo + static_cast<std::size_t>(engine_() % (hi - lo + 1));
  }

  /// In [0, n), skewed towards small indexes (the minimum of two uniform
  /// draws): common words are common, as in real text.
  std::size_t skewed(std::size_t n) noexcept {
    return std::min(between(0, n - 1), between(0, n - 1));
  }

private:
  std::mt19937_64 engine_;
};

// A support site's vocabulary; stop words ("the", "your", ...) are mixed in
// by the sentence maker, as real text has them.
constexpr std::string_view vocabulary[] = {
  "order", "return", "refund", "shipping", "delivery", "payment", "invoice",
  "account", "password", "email", "address", "warranty", "repair", "gift",
  "card", "discount", "coupon", "price", "tracking", "number", "package",
  "parcel", "carrier", "courier", "label", "exchange", "replacement",
  "damaged", "missing", "late", "cancel", "cancellation", "subscription",
  "billing", "charge", "credit", "debit", "bank", "transfer", "receipt",
  "tax", "customs", "duty", "international", "domestic", "express",
  "standard", "overnight", "pickup", "store", "warehouse", "stock",
  "available", "backorder", "preorder", "size", "color", "model", "desk",
  "chair", "lamp", "keyboard", "cable", "monitor", "stand", "drawer",
  "storage", "shelf", "cushion", "armrest", "wheel", "caster", "bulb",
  "battery", "charger", "adapter", "plug", "assembly", "instructions",
  "manual", "screw", "bolt", "tool", "part", "spare", "defect", "fault",
  "broken", "scratch", "dent", "noise", "wobble", "height", "adjust",
  "lever", "gas", "spring", "fabric", "leather", "mesh", "wood", "metal",
  "glass", "finish", "clean", "care", "guarantee", "policy", "terms",
  "conditions", "privacy", "data", "cookie", "consent", "delete",
  "download", "export", "profile", "login", "sign", "reset", "verify",
  "code", "two", "factor", "security", "phone", "chat", "support", "team",
  "agent", "hours", "holiday", "weekend", "business", "days", "week",
  "month", "year", "date", "time", "window", "period", "deadline",
  "condition", "original", "packaging", "box", "tag", "unused", "opened",
  "inspection", "approval", "approved", "rejected", "pending", "processing",
  "shipped", "delivered", "returned", "refunded", "online",
  "checkout", "cart", "basket", "quantity", "total", "subtotal", "fee",
  "free", "threshold", "minimum", "maximum", "limit", "weight",
  "dimension", "oversized", "freight", "pallet", "appointment", "signature",
  "neighbour", "safe", "place", "locker", "notification", "message", "text",
  "update", "status", "history", "reorder", "wishlist", "newsletter",
  "unsubscribe", "promotion", "sale", "clearance", "voucher", "balance",
  "expiry", "redeem", "partial", "full", "amount", "currency", "dollar",
  "euro", "pound", "converter", "statement", "company", "vat",
  "bulk", "quote", "contract", "purchase", "manager", "office",
  "home", "ergonomic", "posture", "comfort", "lumbar", "headrest",
  "footrest", "mat", "organiser", "hub", "dock", "webcam", "headset",
  "speaker", "microphone", "software", "firmware", "bluetooth", "wireless",
  "pairing"};

constexpr std::string_view fillers[] = {
  "the", "your", "we", "you", "our", "is", "are", "can", "will", "to",
  "of", "and", "for", "with", "in", "a"};

std::string capitalised(std::string_view word) {
  std::string out{word};
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

std::string_view word(prng& rng) {
  return vocabulary[rng.skewed(std::size(vocabulary))];
}

/// `count` words (2 to 5 for a heading).
std::string phrase(prng& rng, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0)
      out += ' ';
    out += i == 0 ? capitalised(word(rng)) : std::string{word(rng)};
  }
  return out;
}

std::string_view filler(prng& rng) {
  return fillers[rng.between(0, std::size(fillers) - 1)];
}

/// `words` words in sentences of 6 to 16, a third of them fillers, wrapped
/// at 72 columns as a help article's source is.
std::string paragraph(prng& rng, std::size_t words) {
  std::string out;
  std::size_t in_sentence = 0, sentence_length = rng.between(6, 16);
  std::size_t column = 0;
  for (std::size_t i = 0; i < words; ++i) {
    std::string w{rng.between(0, 2) == 0 ? filler(rng) : word(rng)};
    if (in_sentence == 0)
      w = capitalised(w);
    if (++in_sentence == sentence_length || i + 1 == words) {
      w += '.';
      in_sentence = 0;
      sentence_length = rng.between(6, 16);
    }
    if (i > 0) {
      bool wrap = column + 1 + w.size() > 72;
      out += wrap ? '\n' : ' ';
      column = wrap ? 0 : column + 1;
    }
    out += w;
    column += w.size();
  }
  return out;
}

struct corpus_stats {
  std::size_t files = 0;
  std::uintmax_t bytes = 0;
};

/// Files of one `#` title, an introduction and `##` sections: each file
/// holds sections_per_file sections, the introduction included.
corpus_stats write_corpus(const fs::path& dir, std::size_t sections,
                          prng& rng) {
  corpus_stats stats;
  std::size_t left = sections, file = 0;
  while (left > 0) {
    auto here = std::min(left, sections_per_file);
    left -= here;
    char name[32];
    std::snprintf(name, sizeof name, "article-%04zu.md", file++);
    std::string text = "# " + phrase(rng, rng.between(2, 4)) + "\n\n"
                       + paragraph(rng, rng.between(30, 60)) + "\n";
    for (std::size_t s = 1; s < here; ++s) {
      text += "\n## " + phrase(rng, rng.between(2, 5)) + "\n\n";
      text += paragraph(rng, rng.between(60, 150)) + "\n";
      if (rng.between(0, 3) == 0) {
        // A list now and then, as help articles have.
        text += "\n";
        for (std::size_t i = rng.between(2, 5); i > 0; --i)
          text += "- " + phrase(rng, rng.between(2, 6)) + "\n";
      }
    }
    std::ofstream out{dir / name, std::ios::binary};
    out << text;
    if (!out)
      throw std::runtime_error("cannot write " + (dir / name).string());
    stats.bytes += text.size();
    ++stats.files;
  }
  return stats;
}

/// 1 to 6 words: mostly vocabulary (a question as a customer types it,
/// stop words included), one in five with a word no section has, one in
/// ten with nothing but such words (no match).
std::vector<std::string> make_queries(prng& rng, std::size_t count) {
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t q = 0; q < count; ++q) {
    auto kind = rng.between(0, 9);
    auto words = rng.between(1, 6);
    std::string text;
    for (std::size_t i = 0; i < words; ++i) {
      if (i > 0)
        text += ' ';
      bool unknown = kind == 0 || (kind <= 2 && i == 0);
      if (unknown) {
        // Letters no vocabulary word has in this order.
        text += "zq";
        text += std::to_string(rng.between(0, 99999));
        text += "xv";
      } else if (rng.between(0, 4) == 0) {
        text += filler(rng);
      } else {
        text += word(rng);
      }
    }
    if (rng.between(0, 3) == 0)
      text += '?';
    out.push_back(std::move(text));
  }
  return out;
}

bool parse_count(const char* text, std::size_t& out) {
  char* end = nullptr;
  errno = 0;
  auto value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
    return false;
  out = static_cast<std::size_t>(value);
  return true;
}

double ms_of(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

/// Three decimals (milliseconds: to the microsecond, as parley-loadgen
/// reports them).
double rounded(double value) {
  return static_cast<double>(static_cast<std::int64_t>(value * 1000 + 0.5))
         / 1000;
}

} // namespace

int main(int argc, char** argv) {
  std::size_t sections = 10000, queries = 2000, warmup = 0, top_k = 3;
  std::uint64_t seed = 1;
  bool warmup_given = false, json = false, keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::size_t& out) {
      if (i + 1 >= argc || !parse_count(argv[i + 1], out)) {
        std::cerr << "parley-bench-knowledge: " << arg
                  << " needs a whole number\n"
                  << usage_text;
        std::exit(2);
      }
      ++i;
    };
    if (arg == "--sections") {
      value(sections);
    } else if (arg == "--queries") {
      value(queries);
    } else if (arg == "--warmup") {
      value(warmup);
      warmup_given = true;
    } else if (arg == "--seed") {
      std::size_t s = 0;
      value(s);
      seed = s;
    } else if (arg == "--top-k") {
      value(top_k);
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--keep") {
      keep = true;
    } else if (arg == "-h" || arg == "--help") {
      std::cout << usage_text;
      return 0;
    } else {
      std::cerr << "parley-bench-knowledge: unknown option '" << arg << "'\n"
                << usage_text;
      return 2;
    }
  }
  if (sections == 0 || queries == 0 || top_k == 0) {
    std::cerr << "parley-bench-knowledge: --sections, --queries and --top-k "
                 "must be at least 1\n";
    return 2;
  }
  if (!warmup_given)
    warmup = std::min<std::size_t>(queries, 1000);

  using clock = std::chrono::steady_clock;
  auto ns_since = [](clock::time_point from) {
    return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now()
                                                           - from)
        .count());
  };

  // The corpus, in a folder of our own that is removed again.
  std::error_code ec;
  auto tmp_root = fs::temp_directory_path(ec);
  if (ec)
    tmp_root = "/tmp";
  auto pattern = (tmp_root / "parley-bench-knowledge.XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    std::perror("parley-bench-knowledge: mkdtemp");
    return 1;
  }
  fs::path dir{buffer.data()};
  struct remover {
    fs::path path;
    bool keep;
    ~remover() {
      std::error_code ignored;
      if (keep)
        std::cerr << "parley-bench-knowledge: corpus kept in "
                  << path.string() << '\n';
      else
        fs::remove_all(path, ignored);
    }
  } remove_dir{dir, keep};

  prng rng{seed};
  corpus_stats corpus;
  auto started = clock::now();
  try {
    corpus = write_corpus(dir, sections, rng);
  } catch (const std::exception& ex) {
    std::cerr << "parley-bench-knowledge: " << ex.what() << '\n';
    return 1;
  }
  auto generate_ns = ns_since(started);

  // Loaded as the knowledge actor loads it.
  started = clock::now();
  parley::agent::knowledge_base base{dir};
  auto report = base.refresh();
  auto index_ns = ns_since(started);
  if (!report.problems.empty()) {
    for (auto& p : report.problems)
      std::cerr << "parley-bench-knowledge: " << p.path << ": " << p.reason
                << '\n';
    return 1;
  }

  auto mix = make_queries(rng, warmup + queries);
  std::size_t matched = 0, results = 0;
  for (std::size_t i = 0; i < warmup; ++i)
    results += base.search(mix[i], top_k).matches.size();

  parley::loadgen::latency_histogram latencies; // nanoseconds
  started = clock::now();
  for (std::size_t i = warmup; i < mix.size(); ++i) {
    auto t0 = clock::now();
    auto found = base.search(mix[i], top_k);
    latencies.record(ns_since(t0));
    if (!found.matches.empty())
      ++matched;
    results += found.matches.size();
  }
  auto measured_ns = ns_since(started);
  auto throughput = static_cast<double>(queries)
                    / (static_cast<double>(measured_ns) / 1e9);
  auto pct = [&](double p) { return latencies.value_at_percentile(p); };

  if (json) {
    nlohmann::json out = {
      {"mode", "knowledge"},
      {"seed", seed},
      {"files", corpus.files},
      {"corpus_bytes", corpus.bytes},
      {"documents", base.index().document_count()},
      {"sections", base.index().section_count()},
      {"queries", queries},
      {"warmup_queries", warmup},
      {"top_k", top_k},
      {"matched", matched},
      {"generate_ms", rounded(ms_of(generate_ns))},
      {"index_ms", rounded(ms_of(index_ns))},
      {"measured_seconds", static_cast<double>(measured_ns) / 1e9},
      {"throughput_per_s", rounded(throughput)},
      {"latency_ms",
       {{"count", latencies.count()},
        {"min", rounded(ms_of(latencies.min()))},
        {"mean", rounded(latencies.mean() / 1e6)},
        {"p50", rounded(ms_of(pct(50)))},
        {"p90", rounded(ms_of(pct(90)))},
        {"p99", rounded(ms_of(pct(99)))},
        {"p99_9", rounded(ms_of(pct(99.9)))},
        {"max", rounded(ms_of(latencies.max()))}}},
      // Keeps the optimiser from dropping the searches' results.
      {"results", results},
    };
    std::cout << out.dump() << '\n';
    return 0;
  }
  auto us = [](std::uint64_t ns) { return static_cast<double>(ns) / 1e3; };
  std::printf("corpus      %zu files, %zu sections, %.1f MiB (written in "
              "%.0f ms)\n",
              corpus.files, base.index().section_count(),
              static_cast<double>(corpus.bytes) / (1024.0 * 1024.0),
              ms_of(generate_ns));
  std::printf("index       %.0f ms (knowledge_base::refresh)\n",
              ms_of(index_ns));
  std::printf("queries     %zu measured after %zu warm-up, %zu matched, "
              "top %zu\n",
              queries, warmup, matched, top_k);
  std::printf("throughput  %.0f queries/s\n", throughput);
  std::printf("latency µs  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max "
              "%.1f  mean %.1f\n",
              us(pct(50)), us(pct(90)), us(pct(99)), us(pct(99.9)),
              us(latencies.max()), latencies.mean() / 1e3);
  return 0;
}
