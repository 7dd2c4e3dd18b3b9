#include "tests/e2e/e2e_fixture.hpp"

#include <cctype>
#include <filesystem>
#include <map>
#include <stdexcept>

namespace parley::test {

namespace {

// Keeps failure messages readable when a server logged a lot.
std::string tail(const std::string& log, std::size_t max_bytes = 60000) {
  if (log.size() <= max_bytes)
    return log;
  auto start = log.find('\n', log.size() - max_bytes);
  return "[... " + std::to_string(log.size()) + " bytes, showing the end ...]\n"
         + log.substr(start == std::string::npos ? 0 : start + 1);
}

} // namespace

e2e_fixture::e2e_fixture() : tmp_("parley-e2e") {
  std::filesystem::create_directories(tmp_ / "knowledge");
}

void e2e_fixture::TearDown() {
  if (server_ && server_->running()) {
    server_->kill();
    server_->wait_exit(exit_timeout);
  }
  keep_log();
  if (HasFailure())
    ADD_FAILURE() << "server log of the failed test (" << tmp_.path().string()
                  << "):\n"
                  << (old_logs_.empty() ? std::string{"(no server output)"}
                                        : tail(old_logs_));
}

void e2e_fixture::keep_log() {
  if (!server_)
    return;
  old_logs_ += "---- server pid " + std::to_string(server_->pid()) + " ----\n";
  old_logs_ += server_->log();
  server_.reset();
}

server_process&
e2e_fixture::start_server(const std::vector<std::string>& extra_args,
                          const std::map<std::string, std::string>& env) {
  if (server_ && server_->running())
    throw std::runtime_error("start_server: the previous server still runs");
  keep_log();
  std::vector<std::string> args{"--host",
                                "127.0.0.1",
                                "--port",
                                "0",
                                "--database-url",
                                database_url(),
                                "--log-level",
                                "debug",
                                "--knowledge-dir",
                                (tmp_ / "knowledge").string()};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // The temporary folder as working directory keeps a developer's `.env`
  // (read from the working directory) out of the test.
  // A known admin token (the test's `env` may replace it): the tests'
  // REST clients send it.
  auto full_env = env;
  full_env.emplace("PARLEY_ADMIN_TOKEN", test_admin_token);
  server_ = std::make_unique<server_process>(server_process::default_executable(),
                                             args, full_env,
                                             tmp_.path().string());
  if (!server_->wait_until_listening(start_timeout)) {
    auto status = server_->running() ? std::string{"still running"}
                                     : server_->wait_exit(exit_timeout).to_string();
    throw std::runtime_error("the server did not print `listening on "
                             "http://HOST:PORT` within "
                             + std::to_string(start_timeout.count())
                             + " ms (" + status + ")");
  }
  return *server_;
}

exit_status e2e_fixture::stop_server() {
  auto& srv = server();
  srv.terminate();
  auto status = srv.wait_exit(exit_timeout);
  EXPECT_TRUE(status.is_exit(0)) << "after SIGTERM the server "
                                 << status.to_string();
  return status;
}

server_process& e2e_fixture::server() {
  if (!server_)
    throw std::runtime_error("no server started");
  return *server_;
}

std::string e2e_fixture::db_path() const {
  return (tmp_ / "parley.db").string();
}

std::string e2e_fixture::database_url() const {
  return "sqlite:///" + db_path();
}

session_info e2e_fixture::open_session(ws_client& client) {
  client.connect(host(), port(), "/ws");
  auto frame = client.read_json(frame_timeout);
  auto fail = [&frame](const std::string& why) {
    throw std::runtime_error("bad session frame (" + why + "): " + frame.dump());
  };
  if (type_of(frame) != "session")
    fail("type");
  if (!frame.contains("session_id") || !frame["session_id"].is_number_integer())
    fail("session_id is not an integer");
  if (!frame.contains("resume_token") || !frame["resume_token"].is_string()
      || frame["resume_token"].get<std::string>().empty())
    fail("resume_token is not a non-empty string");
  if (!frame.contains("resumed") || frame["resumed"] != false)
    fail("resumed is not false");
  session_info result;
  result.session_id = frame["session_id"].get<std::int64_t>();
  result.resume_token = frame["resume_token"].get<std::string>();
  result.seq = seq_of(frame);
  return result;
}

nlohmann::json e2e_fixture::resume_session(ws_client& client,
                                           const session_info& session,
                                           std::int64_t last_seq) {
  client.connect(host(), port(),
                 resume_target(session.session_id, session.resume_token,
                               last_seq));
  return client.read_json(frame_timeout);
}

exchange e2e_fixture::send_message(ws_client& client, const std::string& text,
                                   const std::string& id) {
  nlohmann::json frame{{"type", "message"}, {"text", text}};
  if (!id.empty())
    frame["id"] = id;
  client.send_json(frame);
  exchange result;
  result.frames = client.read_until_type("message", frame_timeout);
  auto fail = [&result](const std::string& why) {
    throw std::runtime_error("send_message: " + why + "; frames:\n"
                             + dump(result.frames));
  };
  const nlohmann::json* ack = nullptr;
  bool typing = false;
  for (const auto& f : result.frames) {
    auto type = type_of(f);
    if (type == "ack" && ack == nullptr)
      ack = &f;
    else if (type == "typing" && ack != nullptr)
      typing = true;
    else if (type != "message")
      fail("unexpected " + f.dump());
  }
  if (ack == nullptr)
    fail("no ack before the reply");
  if (!typing)
    fail("no typing frame between ack and reply");
  result.ack = *ack;
  result.reply = result.frames.back();
  if (!result.ack.contains("message_id")
      || !result.ack["message_id"].is_number_integer())
    fail("ack without an integer message_id");
  if (!result.reply.contains("reply_to")
      || result.reply["reply_to"] != result.ack["message_id"])
    fail("reply_to does not match the ack's message_id");
  return result;
}

exchange e2e_fixture::ask(ws_client& client, const std::string& text,
                          const std::string& id) {
  client.send_json({{"type", "message"}, {"text", text}, {"id", id}});
  exchange result;
  result.frames = client.read_until_type("message", frame_timeout);
  for (const auto& frame : result.frames)
    if (type_of(frame) == "ack")
      result.ack = frame;
  result.reply = result.frames.back();
  if (result.ack.is_null()
      || result.reply["reply_to"] != result.ack["message_id"])
    throw std::runtime_error("no ack or a reply to something else:\n"
                             + dump(result.frames));
  return result;
}

std::vector<nlohmann::json> e2e_fixture::ping_barrier(ws_client& client) {
  client.send_json({{"type", "ping"}});
  return client.read_until_type("pong", frame_timeout);
}

std::string resume_target(std::int64_t session_id, const std::string& token,
                          std::int64_t last_seq) {
  // Tokens may be base64 and the like: percent-encode all but unreserved.
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string encoded;
  for (unsigned char ch : token) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      encoded += static_cast<char>(ch);
    } else {
      encoded += '%';
      encoded += hex[ch >> 4];
      encoded += hex[ch & 0x0F];
    }
  }
  return "/ws?session_id=" + std::to_string(session_id)
         + "&resume_token=" + encoded + "&last_seq=" + std::to_string(last_seq);
}

std::string dump(const std::vector<nlohmann::json>& frames) {
  std::string result;
  for (const auto& frame : frames) {
    auto line = frame.dump();
    if (line.size() > 400)
      line = line.substr(0, 400) + "...";
    result += "  " + line + "\n";
  }
  return result.empty() ? "  (none)\n" : result;
}

std::string streamed_text(const std::vector<nlohmann::json>& frames) {
  std::string text;
  for (const auto& frame : frames)
    if (type_of(frame) == "delta")
      text += frame["text"].get<std::string>();
  return text;
}

std::string type_of(const nlohmann::json& frame) {
  if (frame.is_object() && frame.contains("type") && frame["type"].is_string())
    return frame["type"].get<std::string>();
  return {};
}

std::int64_t seq_of(const nlohmann::json& frame) {
  if (!frame.is_object() || !frame.contains("seq")
      || !frame["seq"].is_number_integer())
    throw std::runtime_error("frame without an integer seq: " + frame.dump());
  return frame["seq"].get<std::int64_t>();
}

} // namespace parley::test
