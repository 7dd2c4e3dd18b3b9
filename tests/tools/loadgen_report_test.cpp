// The load generator's reports (tools/loadgen/report): the JSON fields the
// README documents and the text table, from made-up statistics.

#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tools/loadgen/report.hpp"

using namespace parley::loadgen;
using namespace std::chrono_literals;

namespace {

const run_stats::clock::time_point t0{std::chrono::seconds{50}};

options ws_options() {
  options opts;
  opts.connections = 2;
  opts.messages = 2;
  opts.source_addresses = 1;
  return opts;
}

/// Two connections, four answers within 2 s, and some errors.
run_summary ws_summary() {
  run_summary summary;
  auto& s = summary.stats;
  s.connection_opened();
  s.connection_opened();
  s.session_started();
  s.session_started();
  s.message_sent(false, t0);
  s.answered(false, 1ms, 3, t0 + 1s);
  s.answered(false, 2ms, 3, t0 + 1s);
  s.answered(false, 3ms, 3, t0 + 1s);
  s.answered(false, 4ms, 4, t0 + 2s);
  s.error_frame("rate_limited");
  s.error(error_kind::timeout);
  summary.wall_seconds = 2.5;
  return summary;
}

TEST(loadgen_report, json_has_the_documented_fields) {
  auto opts = ws_options();
  auto j = report_json(ws_summary(), opts);
  EXPECT_EQ(j["mode"], "ws");
  EXPECT_EQ(j["url"], "ws://127.0.0.1:3001/ws");
  EXPECT_EQ(j["threads"], 1);
  EXPECT_EQ(j["config"]["connections"], 2);
  EXPECT_EQ(j["config"]["messages"], 2);
  EXPECT_EQ(j["config"]["outstanding"], 1);
  EXPECT_TRUE(j["config"]["duration_s"].is_null());
  EXPECT_EQ(j["wall_seconds"], 2.5);
  EXPECT_DOUBLE_EQ(j["measured_seconds"].get<double>(), 2.0);
  EXPECT_EQ(j["connections"]["opened"], 2);
  EXPECT_EQ(j["connections"]["failed"], 0);
  EXPECT_EQ(j["connections"]["sessions"], 2);
  EXPECT_EQ(j["messages"]["sent"], 1);
  EXPECT_EQ(j["messages"]["answered"], 4);
  EXPECT_EQ(j["messages"]["warmup_sent"], 0);
  EXPECT_DOUBLE_EQ(j["throughput_per_s"].get<double>(), 2.0);
  const auto& lat = j["latency_ms"];
  EXPECT_EQ(lat["count"], 4);
  EXPECT_DOUBLE_EQ(lat["min"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(lat["max"].get<double>(), 4.0);
  EXPECT_DOUBLE_EQ(lat["mean"].get<double>(), 2.5);
  for (const char* key : {"p50", "p90", "p99", "p99_9"})
    EXPECT_TRUE(lat[key].is_number()) << key;
  EXPECT_NEAR(lat["p50"].get<double>(), 2.0, 2.0 / 128);
  EXPECT_EQ(j["frames"]["in_replies"], 13);
  EXPECT_DOUBLE_EQ(j["frames"]["per_reply"].get<double>(), 3.25);
  EXPECT_EQ(j["frames"]["per_reply_min"], 3);
  EXPECT_EQ(j["frames"]["per_reply_max"], 4);
  const auto& errors = j["errors"];
  EXPECT_EQ(errors["total"], 2);
  EXPECT_EQ(errors["timeout"], 1);
  for (const char* key :
       {"connect_failed", "handshake_failed", "closed_early", "bad_frame"})
    EXPECT_EQ(errors[key], 0) << key;
  EXPECT_EQ(errors["error_frames"]["rate_limited"], 1);
  EXPECT_FALSE(j.contains("http"));
  EXPECT_FALSE(j.contains("server"));
}

TEST(loadgen_report, json_of_an_empty_run) {
  auto j = report_json(run_summary{}, ws_options());
  EXPECT_EQ(j["messages"]["answered"], 0);
  EXPECT_EQ(j["throughput_per_s"], 0.0);
  EXPECT_TRUE(j["measured_seconds"].is_null());
  EXPECT_EQ(j["latency_ms"]["p99"], 0.0);
  EXPECT_EQ(j["errors"]["total"], 0);
  EXPECT_TRUE(j["errors"]["error_frames"].is_object());
}

TEST(loadgen_report, json_has_the_server_memory_per_session) {
  auto opts = ws_options();
  opts.mode = run_mode::idle;
  opts.server_pid = 4242;
  auto summary = ws_summary();
  summary.rss_before_kib = 10000;
  summary.rss_after_kib = 10100;
  auto j = report_json(summary, opts);
  EXPECT_EQ(j["mode"], "idle");
  EXPECT_EQ(j["server"]["pid"], 4242);
  EXPECT_EQ(j["server"]["rss_before_kib"], 10000);
  EXPECT_EQ(j["server"]["rss_after_kib"], 10100);
  EXPECT_DOUBLE_EQ(j["server"]["rss_per_session_kib"].get<double>(), 50.0);
  // Unreadable memory is null, not a made-up number.
  summary.rss_after_kib.reset();
  j = report_json(summary, opts);
  EXPECT_TRUE(j["server"]["rss_after_kib"].is_null());
  EXPECT_TRUE(j["server"]["rss_per_session_kib"].is_null());
}

TEST(loadgen_report, json_of_http_mode_has_statuses) {
  options opts;
  opts.mode = run_mode::http;
  opts.concurrency = 3;
  opts.duration_s = 1;
  run_summary summary;
  summary.stats.http_response(201, false, 2ms, t0);
  summary.stats.http_response(201, false, 2ms, t0 + 1s);
  summary.stats.http_response(429, false, 1ms, t0);
  auto j = report_json(summary, opts);
  EXPECT_EQ(j["url"], "http://127.0.0.1:3001/api/chat/send");
  EXPECT_EQ(j["config"]["concurrency"], 3);
  EXPECT_EQ(j["http"]["requests"], 3);
  EXPECT_EQ(j["http"]["status"]["201"], 2);
  EXPECT_EQ(j["http"]["status"]["429"], 1);
  EXPECT_EQ(j["errors"]["http_status"], 1);
  EXPECT_EQ(j["errors"]["total"], 1);
  EXPECT_EQ(j["messages"]["answered"], 2);
  EXPECT_FALSE(j.contains("frames"));
}

TEST(loadgen_report, text_table_names_every_number) {
  auto opts = ws_options();
  opts.server_pid = 7;
  auto summary = ws_summary();
  summary.rss_before_kib = 1000;
  summary.rss_after_kib = 1200;
  auto text = report_text(summary, opts);
  for (const char* part :
       {"parley-loadgen ws ws://127.0.0.1:3001/ws", "opened 2, failed 0",
        "answered 4", "2.0 answers/s", "p50 ", "p99.9 ", "max 4.000",
        "frames/reply   3.25 (min 3, max 4)", "timeout 1",
        "error frame rate_limited 1", "per session 100.00 KiB"})
    EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
}

TEST(loadgen_report, text_says_none_without_errors) {
  auto text = report_text(run_summary{}, ws_options());
  EXPECT_NE(text.find("errors         none"), std::string::npos) << text;
}

} // namespace
