#include "tools/loadgen/report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace parley::loadgen {

namespace {

using json = nlohmann::ordered_json;

constexpr error_kind all_kinds[] = {
  error_kind::connect_failed, error_kind::handshake_failed,
  error_kind::closed_early, error_kind::timeout, error_kind::bad_frame};

// The percentiles reported, with their JSON names and table labels.
struct percentile_name {
  double value;
  const char* key;
  const char* label;
};

constexpr percentile_name percentiles[] = {{50, "p50", "p50"},
                                           {90, "p90", "p90"},
                                           {99, "p99", "p99"},
                                           {99.9, "p99_9", "p99.9"}};

double ms(std::uint64_t micros) {
  return static_cast<double>(micros) / 1000.0;
}

/// Three decimals: JSON readers need no more than microseconds.
double rounded(double value, double scale = 1000.0) {
  return std::round(value * scale) / scale;
}

std::optional<double> rss_per_session(const run_summary& summary) {
  auto sessions = summary.stats.sessions();
  if (!summary.rss_before_kib || !summary.rss_after_kib || sessions == 0)
    return std::nullopt;
  auto grown = static_cast<double>(*summary.rss_after_kib)
               - static_cast<double>(*summary.rss_before_kib);
  return grown / static_cast<double>(sessions);
}

std::string fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

} // namespace

double throughput(const run_summary& summary) {
  auto seconds = summary.stats.measured_seconds();
  if (!seconds || summary.stats.answered() == 0)
    return 0;
  // One answer alone has a window of its own latency.
  return static_cast<double>(summary.stats.answered())
         / std::max(*seconds, 1e-6);
}

json report_json(const run_summary& summary, const options& opts) {
  const auto& s = summary.stats;
  const auto& h = s.latency();
  json config = json::object();
  if (opts.mode == run_mode::http) {
    config["concurrency"] = opts.concurrency;
    config["duration_s"] = opts.duration_s;
    config["warmup_messages"] = opts.warmup_messages;
  } else {
    config["connections"] = opts.connections;
    if (opts.mode == run_mode::ws) {
      config["messages"] = opts.messages;
      config["warmup_messages"] = opts.warmup_messages;
      config["outstanding"] = opts.outstanding;
      config["think_ms"] = opts.think_ms;
      config["expect"] = to_string(opts.expect);
      config["duration_s"] = opts.duration_s > 0 ? json(opts.duration_s)
                                                 : json(nullptr);
    }
  }
  config["timeout_ms"] = opts.timeout_ms;
  config["ramp_per_sec"] = opts.ramp_per_sec;
  config["source_addresses"] = opts.source_addresses;
  config["text"] = opts.text;
  json latency{{"count", h.count()},
               {"min", ms(h.min())},
               {"mean", rounded(h.mean() / 1000.0)}};
  for (const auto& p : percentiles)
    latency[p.key] = ms(h.value_at_percentile(p.value));
  latency["max"] = ms(h.max());
  json errors{{"total", s.total_errors()}};
  for (auto kind : all_kinds)
    errors[to_string(kind)] = s.errors(kind);
  errors["error_frames"] = json::object();
  for (const auto& [code, n] : s.error_frames())
    errors["error_frames"][code.empty() ? "(none)" : code] = n;
  auto measured = s.measured_seconds();
  json result{
    {"mode", to_string(opts.mode)},
    {"url", opts.url()},
    {"threads", opts.threads},
    {"config", config},
    {"wall_seconds", rounded(summary.wall_seconds)},
    {"measured_seconds",
     measured ? json(rounded(*measured, 1e6)) : json(nullptr)},
    {"connections",
     {{"opened", s.connections_opened()},
      {"failed", s.connections_failed()},
      {"sessions", s.sessions()}}},
    {"messages",
     {{"sent", s.sent()},
      {"answered", s.answered()},
      {"warmup_sent", s.warmup_sent()},
      {"warmup_answered", s.warmup_answered()}}},
    {"throughput_per_s", rounded(throughput(summary), 10.0)},
    {"latency_ms", latency},
    {"errors", errors}};
  if (opts.mode == run_mode::http) {
    json statuses = json::object();
    std::uint64_t not_2xx = 0;
    for (const auto& [status, n] : s.http_statuses()) {
      statuses[std::to_string(status)] = n;
      if (status < 200 || status >= 300)
        not_2xx += n;
    }
    result["errors"]["http_status"] = not_2xx;
    result["http"] = {{"requests", s.http_responses()}, {"status", statuses}};
  } else {
    result["frames"] = {{"received", s.frames_received()},
                        {"in_replies", s.reply_frames()},
                        {"per_reply", rounded(s.frames_per_reply())},
                        {"per_reply_min", s.min_frames_per_reply()},
                        {"per_reply_max", s.max_frames_per_reply()}};
  }
  if (opts.server_pid) {
    auto per_session = rss_per_session(summary);
    result["server"] = {
      {"pid", *opts.server_pid},
      {"rss_before_kib", summary.rss_before_kib ? json(*summary.rss_before_kib)
                                                : json(nullptr)},
      {"rss_after_kib", summary.rss_after_kib ? json(*summary.rss_after_kib)
                                              : json(nullptr)},
      {"rss_per_session_kib",
       per_session ? json(rounded(*per_session, 100.0)) : json(nullptr)}};
  }
  return result;
}

std::string report_text(const run_summary& summary, const options& opts) {
  const auto& s = summary.stats;
  const auto& h = s.latency();
  std::ostringstream out;
  auto row = [&out](const char* label) -> std::ostringstream& {
    out << std::left << std::setw(15) << label;
    return out;
  };
  out << "parley-loadgen " << to_string(opts.mode) << " " << opts.url()
      << ", " << opts.threads << " thread" << (opts.threads == 1 ? "" : "s")
      << "\n";
  switch (opts.mode) {
    case run_mode::ws:
      row("run") << opts.connections << " connections x " << opts.messages
                 << " messages (+" << opts.warmup_messages << " warm-up), "
                 << opts.outstanding << " outstanding, think "
                 << opts.think_ms << " ms"
                 << (opts.expect == expect_mode::echo ? ", echo server" : "")
                 << "\n";
      break;
    case run_mode::idle:
      row("run") << opts.connections << " sessions held, then one message "
                 << "each\n";
      break;
    case run_mode::http:
      row("run") << opts.concurrency << " connections for "
                 << fixed(opts.duration_s, 1) << " s\n";
      break;
  }
  row("connections") << "opened " << s.connections_opened() << ", failed "
                     << s.connections_failed();
  if (opts.mode != run_mode::http)
    out << ", sessions " << s.sessions();
  out << "\n";
  row(opts.mode == run_mode::http ? "requests" : "messages")
    << "sent " << s.sent() << ", answered " << s.answered() << " (warm-up "
    << s.warmup_answered() << "/" << s.warmup_sent() << ")\n";
  auto measured = s.measured_seconds();
  row("time") << fixed(summary.wall_seconds, 3) << " s in all, measured "
              << (measured ? fixed(*measured, 3) + " s" : std::string{"-"})
              << "\n";
  row("throughput") << fixed(throughput(summary), 1)
                    << (opts.mode == run_mode::http ? " responses/s\n"
                                                    : " answers/s\n");
  row("latency ms") << "min " << fixed(ms(h.min()), 3);
  for (const auto& p : percentiles)
    out << "  " << p.label << " "
        << fixed(ms(h.value_at_percentile(p.value)), 3);
  out << "  max " << fixed(ms(h.max()), 3) << "  mean "
      << fixed(h.mean() / 1000.0, 3) << "\n";
  if (opts.mode == run_mode::http) {
    row("status");
    if (s.http_statuses().empty())
      out << "-";
    for (const auto& [status, n] : s.http_statuses())
      out << status << " x" << n << "  ";
    out << "\n";
  } else {
    row("frames/reply") << fixed(s.frames_per_reply(), 2) << " (min "
                        << s.min_frames_per_reply() << ", max "
                        << s.max_frames_per_reply() << "), "
                        << s.frames_received() << " frames received\n";
  }
  row("errors");
  if (s.total_errors() == 0) {
    out << "none";
  } else {
    out << s.total_errors() << ":";
    for (auto kind : all_kinds)
      if (s.errors(kind) != 0)
        out << "  " << to_string(kind) << " " << s.errors(kind);
    for (const auto& [code, n] : s.error_frames())
      out << "  error frame " << (code.empty() ? "(no code)" : code) << " "
          << n;
    for (const auto& [status, n] : s.http_statuses())
      if (status < 200 || status >= 300)
        out << "  HTTP " << status << " " << n;
  }
  out << "\n";
  if (opts.server_pid) {
    auto kib = [](const std::optional<std::uint64_t>& v) {
      return v ? std::to_string(*v) + " KiB" : std::string{"-"};
    };
    auto per_session = rss_per_session(summary);
    row("server rss") << "before " << kib(summary.rss_before_kib)
                      << ", after " << kib(summary.rss_after_kib)
                      << ", per session "
                      << (per_session ? fixed(*per_session, 2) + " KiB"
                                      : std::string{"-"})
                      << " (pid " << *opts.server_pid << ")\n";
  }
  return out.str();
}

} // namespace parley::loadgen
