#include "tools/loadgen/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include <boost/program_options.hpp>

namespace po = boost::program_options;

namespace parley::loadgen {

const char* to_string(run_mode mode) noexcept {
  switch (mode) {
    case run_mode::ws:
      return "ws";
    case run_mode::idle:
      return "idle";
    case run_mode::http:
      return "http";
  }
  return "ws";
}

const char* to_string(expect_mode expect) noexcept {
  return expect == expect_mode::echo ? "echo" : "parley";
}

std::optional<target_url> parse_url(std::string_view url, std::string& error) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "--url must look like ws://HOST:PORT/ws";
    return std::nullopt;
  }
  auto scheme = url.substr(0, scheme_end);
  if (scheme == "wss" || scheme == "https") {
    error = "--url: TLS (wss://, https://) is not supported; use ws:// or "
            "http://";
    return std::nullopt;
  }
  if (scheme != "ws" && scheme != "http") {
    error = "--url must start with ws:// or http://";
    return std::nullopt;
  }
  auto rest = url.substr(scheme_end + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  target_url result;
  if (slash != std::string_view::npos)
    result.path = std::string{rest.substr(slash)};
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "--url: unclosed [ in the host";
      return std::nullopt;
    }
    result.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "--url: junk after the host";
        return std::nullopt;
      }
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    result.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos)
      port_text = authority.substr(colon + 1);
  }
  if (result.host.empty()) {
    error = "--url has no host";
    return std::nullopt;
  }
  if (!port_text.empty() || authority.find(':') != std::string_view::npos) {
    unsigned port = 0;
    auto end = port_text.data() + port_text.size();
    auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc{} || ptr != end || port == 0
        || port > 65535) {
      error = "--url: the port must be 1-65535";
      return std::nullopt;
    }
    result.port = static_cast<std::uint16_t>(port);
  }
  return result;
}

std::string options::url() const {
  auto h = host.find(':') == std::string::npos ? host : "[" + host + "]";
  if (mode == run_mode::http)
    return "http://" + h + ":" + std::to_string(port) + "/api/chat/send";
  return "ws://" + h + ":" + std::to_string(port) + path;
}

std::uint32_t source_address_v4(std::uint64_t index,
                                std::uint32_t count) noexcept {
  constexpr std::uint32_t first = 0x7f000001; // 127.0.0.1
  return first + static_cast<std::uint32_t>(index % (count == 0 ? 1 : count));
}

namespace {

parse_result usage_error(const std::string& what) {
  parse_result result;
  result.message = "parley-loadgen: " + what
                   + "\nTry `parley-loadgen --help`.";
  result.exit_code = 2;
  return result;
}

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

} // namespace

parse_result parse_options(int argc, const char* const* argv) {
  options opts;
  std::string mode = "ws";
  std::string expect = "parley";
  std::string url;
  unsigned port = opts.port;
  std::int64_t server_pid = 0;
  po::options_description desc{
    "parley-loadgen: drives a Parley server with chat traffic and reports "
    "throughput,\nlatency percentiles and errors (tools/loadgen/README.md)."
    "\n\nOptions"};
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("mode", po::value(&mode)->default_value(mode),
     "ws (chat over WebSocket), idle (hold sessions, measure the server's "
     "memory) or http (POST /api/chat/send)")
    ("expect", po::value(&expect)->default_value(expect),
     "ws: parley (the chat protocol) or echo (a server that sends every "
     "frame back, for comparison: no session frame, the echo answers)")
    ("url", po::value(&url),
     "the server, as ws://HOST:PORT/ws (or http://HOST:PORT); instead of "
     "--host and --port")
    ("host", po::value(&opts.host)->default_value(opts.host),
     "the server's address")
    ("port", po::value(&port)->default_value(port), "the server's port")
    ("connections",
     po::value(&opts.connections)->default_value(opts.connections),
     "ws, idle: WebSocket connections (each its own session)")
    ("messages", po::value(&opts.messages)->default_value(opts.messages),
     "ws: messages per connection (after the warm-up)")
    ("warmup-messages",
     po::value(&opts.warmup_messages)->default_value(opts.warmup_messages),
     "ws, http: messages (requests) per connection sent first and left out "
     "of the statistics")
    ("outstanding",
     po::value(&opts.outstanding)->default_value(opts.outstanding),
     "ws: messages in flight per connection (the server allows "
     "PARLEY_MAX_PENDING_REPLIES, 8 by default)")
    ("think-ms", po::value(&opts.think_ms)->default_value(opts.think_ms),
     "ws: pause between an answer and the next message")
    ("ramp-per-sec", po::value(&opts.ramp_per_sec)->default_value(0),
     "new connections per second (0: all at once)")
    ("duration", po::value(&opts.duration_s),
     "seconds: http: how long to send (default 10); ws: stop sending new "
     "messages after this (default: no limit)")
    ("concurrency",
     po::value(&opts.concurrency)->default_value(opts.concurrency),
     "http: keep-alive connections, one request in flight on each")
    ("timeout-ms", po::value(&opts.timeout_ms)->default_value(opts.timeout_ms),
     "longest wait for a connect, handshake, greeting, answer or response")
    ("threads", po::value(&opts.threads)->default_value(opts.threads),
     "client threads, each with its own io_context and share of the "
     "connections")
    ("server-pid", po::value(&server_pid),
     "the server's process id: report its memory (VmRSS) before and after")
    ("text", po::value(&opts.text)->default_value(opts.text),
     "the text of every message")
    ("source-addresses", po::value(&opts.source_addresses),
     "loopback source addresses (127.0.0.1, .2, ...) the connections take "
     "turns on when the server is on 127.0.0.0/8 (default: one per 100 "
     "connections)")
    ("json", po::bool_switch(&opts.json),
     "print the report as one line of JSON instead of a table");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const std::exception& ex) {
    return usage_error(ex.what());
  }
  if (vm.count("help")) {
    std::ostringstream out;
    out << desc;
    parse_result result;
    result.message = out.str();
    return result;
  }
  if (mode == "ws")
    opts.mode = run_mode::ws;
  else if (mode == "idle")
    opts.mode = run_mode::idle;
  else if (mode == "http")
    opts.mode = run_mode::http;
  else
    return usage_error("--mode must be ws, idle or http, not `" + mode + "`");
  if (expect == "parley")
    opts.expect = expect_mode::parley;
  else if (expect == "echo")
    opts.expect = expect_mode::echo;
  else
    return usage_error("--expect must be parley or echo, not `" + expect
                       + "`");
  if (opts.expect == expect_mode::echo && opts.mode != run_mode::ws)
    return usage_error("--expect echo needs --mode ws");
  if (vm.count("url")) {
    if (!vm["host"].defaulted() || !vm["port"].defaulted())
      return usage_error("--url replaces --host and --port: give one or the "
                         "other");
    std::string error;
    auto parsed = parse_url(url, error);
    if (!parsed)
      return usage_error(error);
    opts.host = parsed->host;
    opts.port = parsed->port;
    if (!parsed->path.empty() && parsed->path != "/")
      opts.path = parsed->path;
  } else {
    if (port == 0 || port > std::numeric_limits<std::uint16_t>::max())
      return usage_error("--port must be 1-65535");
    opts.port = static_cast<std::uint16_t>(port);
  }
  if (opts.host.empty())
    return usage_error("--host must not be empty");
  if (opts.connections == 0)
    return usage_error("--connections must be at least 1");
  if (opts.mode == run_mode::ws && opts.messages == 0)
    return usage_error("--messages must be at least 1");
  if (opts.outstanding == 0 || opts.outstanding > 1000)
    return usage_error("--outstanding must be 1-1000");
  if (opts.concurrency == 0)
    return usage_error("--concurrency must be at least 1");
  if (opts.threads == 0 || opts.threads > 256)
    return usage_error("--threads must be 1-256");
  if (opts.timeout_ms == 0)
    return usage_error("--timeout-ms must be at least 1");
  if (!std::isfinite(opts.ramp_per_sec) || opts.ramp_per_sec < 0)
    return usage_error("--ramp-per-sec must be 0 or more");
  if (vm.count("duration")) {
    if (!std::isfinite(opts.duration_s) || opts.duration_s <= 0
        || opts.duration_s > 1e7)
      return usage_error("--duration must be more than 0 seconds");
  } else if (opts.mode == run_mode::http) {
    opts.duration_s = 10;
  }
  if (vm.count("server-pid")) {
    if (server_pid <= 0)
      return usage_error("--server-pid must be a process id");
    opts.server_pid = server_pid;
  }
  if (blank(opts.text))
    return usage_error("--text must not be blank: the server refuses empty "
                       "messages");
  auto total = opts.total_connections();
  if (vm.count("source-addresses")) {
    if (opts.source_addresses == 0 || opts.source_addresses > (1u << 20))
      return usage_error("--source-addresses must be 1-1048576");
  } else {
    opts.source_addresses = static_cast<std::uint32_t>(std::min<std::uint64_t>(
      (total + connections_per_source_address - 1)
        / connections_per_source_address,
      1u << 20));
  }
  parse_result result;
  result.opts = std::move(opts);
  return result;
}

} // namespace parley::loadgen
