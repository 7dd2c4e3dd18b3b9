#include "tools/mock_llm/options.hpp"

#include <limits>
#include <sstream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

namespace po = boost::program_options;

namespace parley::mock_llm {

const char* to_string(protocol_kind kind) noexcept {
  return kind == protocol_kind::openai ? "openai" : "websocket";
}

namespace {

parse_result usage_error(const std::string& what) {
  parse_result result;
  result.message = "parley-mock-llm: " + what
                   + "\nTry `parley-mock-llm --help`.";
  result.exit_code = 2;
  return result;
}

} // namespace

parse_result parse_options(int argc, char** argv) {
  options opts;
  std::string protocol = "websocket";
  unsigned port = opts.port;
  std::uint32_t close_mid_stream = 0;
  std::string require_key;
  std::string reply;
  po::options_description desc{
    "parley-mock-llm: a scriptable stand-in for an LLM server, for Parley's "
    "tests.\nPrints `mock llm listening on HOST:PORT` once accepting; runs "
    "until SIGINT or SIGTERM.\n\nOptions"};
  // clang-format off
  desc.add_options()
    ("help,h", "print this help and exit")
    ("protocol", po::value(&protocol)->default_value(protocol),
     "websocket (the custom LLM WebSocket protocol) or openai "
     "(OpenAI-compatible chat completions)")
    ("host", po::value(&opts.host)->default_value(opts.host),
     "address to listen on")
    ("port", po::value(&port)->default_value(port),
     "port to listen on; 0 picks a free one (printed)")
    ("latency-ms", po::value(&opts.latency_ms)->default_value(0),
     "delay before a reply starts (first chunk, or the whole answer)")
    ("chunk-delay-ms", po::value(&opts.chunk_delay_ms)->default_value(0),
     "delay between two deltas of a streamed reply")
    ("chunks", po::value(&opts.chunks)->default_value(opts.chunks),
     "number of deltas a streamed reply is split into (>= 1)")
    ("fail-nth", po::value(&opts.fail_nth)->composing(),
     "the N-th chat request (1-based; repeatable) fails: an error frame "
     "(websocket) or HTTP 500 (openai)")
    ("close-mid-stream", po::value(&close_mid_stream),
     "after N deltas of a streamed reply, drop the TCP connection (no close "
     "frame, no final chunk); a non-streamed reply is dropped instead of "
     "sent")
    ("close-count", po::value(&opts.close_count)->default_value(0),
     "--close-mid-stream hits only the first K chat requests (0: all)")
    ("garbage", po::bool_switch(&opts.garbage),
     "answer chat requests with malformed frames (websocket) or SSE events "
     "(openai) instead of a reply")
    ("oversized", po::value(&opts.oversized),
     "answer chat requests with a reply of BYTES bytes sent as one frame "
     "(websocket) or one SSE event (openai)")
    ("truncate-frame", po::bool_switch(&opts.truncate_frame),
     "send only the first half of a reply's first frame (websocket) or SSE "
     "event (openai), then drop the TCP connection")
    ("status", po::value(&opts.status)->default_value(0),
     "answer chat requests with this HTTP status (openai) or an error frame "
     "carrying it (websocket)")
    ("status-count", po::value(&opts.status_count)->default_value(0),
     "--status hits only the first K chat requests (0: all)")
    ("retry-after", po::value(&opts.retry_after)->default_value(0),
     "Retry-After seconds sent with --status 429 or 503")
    ("tool-call", po::value(&opts.tool_call),
     "reply with a call of this tool instead of text (see README)")
    ("tool-args", po::value(&opts.tool_args)->default_value(opts.tool_args),
     "the tool call's arguments, a JSON object, sent as given")
    ("agent", po::bool_switch(&opts.agent),
     "behave like a small tool-using model: answer a forced `route` call "
     "and call get_order / knowledge_search by keyword rules (see README)")
    ("require-key", po::value(&require_key),
     "refuse (401) requests without `Authorization: Bearer KEY`")
    ("reply", po::value(&reply),
     "the reply text (default: `Echo: ` and the user's last message)")
    ("legacy-fields", po::bool_switch(&opts.legacy_fields),
     "websocket: answer with `content` and `usage.total_tokens` instead of "
     "`response` and `tokens_used`")
    ("no-usage-chunk", "openai: end a stream without the usage chunk")
    ("idle-timeout-ms",
     po::value(&opts.idle_timeout_ms)->default_value(opts.idle_timeout_ms),
     "close a connection idle this long (0: never)")
    ("verbose,v", po::bool_switch(&opts.verbose),
     "log each request to stderr")
    ("tls-cert", po::value(&opts.tls_cert),
     "serve TLS only (https, wss) with this PEM certificate (chain); needs "
     "--tls-key")
    ("tls-key", po::value(&opts.tls_key),
     "the PEM private key of --tls-cert");
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
  if (protocol == "websocket")
    opts.protocol = protocol_kind::websocket;
  else if (protocol == "openai")
    opts.protocol = protocol_kind::openai;
  else
    return usage_error("--protocol must be websocket or openai, not `"
                       + protocol + "`");
  if (port > std::numeric_limits<std::uint16_t>::max())
    return usage_error("--port must be at most 65535");
  opts.port = static_cast<std::uint16_t>(port);
  if (opts.chunks == 0)
    return usage_error("--chunks must be at least 1");
  for (auto n : opts.fail_nth)
    if (n == 0)
      return usage_error("--fail-nth counts from 1");
  if (vm.count("close-mid-stream"))
    opts.close_mid_stream = close_mid_stream;
  if (int{opts.garbage} + int{opts.oversized != 0} + int{opts.truncate_frame}
      > 1)
    return usage_error("--garbage, --oversized and --truncate-frame exclude "
                       "each other");
  if (vm.count("oversized") && opts.oversized == 0)
    return usage_error("--oversized must be at least 1 byte");
  if (opts.status != 0 && (opts.status < 100 || opts.status > 599))
    return usage_error("--status must be an HTTP status (100-599)");
  auto args = nlohmann::json::parse(opts.tool_args, nullptr, false);
  if (args.is_discarded() || !args.is_object())
    return usage_error("--tool-args must be a JSON object");
  if (vm.count("require-key")) {
    if (require_key.empty())
      return usage_error("--require-key must not be empty");
    opts.require_key = require_key;
  }
  if (vm.count("reply"))
    opts.reply = reply;
  if (opts.agent && (!opts.tool_call.empty() || opts.reply))
    return usage_error("--agent decides calls and text itself: it does not go "
                       "with --tool-call or --reply");
  opts.usage_chunk = vm.count("no-usage-chunk") == 0;
  if (opts.tls_cert.empty() != opts.tls_key.empty())
    return usage_error("--tls-cert and --tls-key go together");
  parse_result result;
  result.opts = std::move(opts);
  return result;
}

} // namespace parley::mock_llm
