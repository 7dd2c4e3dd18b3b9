#include "tests/e2e/rest_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>

#include <unistd.h>

namespace parley::test {

namespace {

using json = nlohmann::json;

std::string tail_lines(const std::vector<std::string>& lines, std::size_t from,
                       std::size_t max_bytes = 60000) {
  std::string result;
  for (auto i = lines.size(); i > from; --i) {
    if (result.size() + lines[i - 1].size() + 1 > max_bytes) {
      result = "[... earlier lines left out ...]\n" + result;
      break;
    }
    result = lines[i - 1] + "\n" + result;
  }
  return result.empty() ? std::string{"(no output)\n"} : result;
}

[[noreturn]] void unexpected(const std::string& what, const rest_reply& reply,
                             const ::testing::AssertionResult& why) {
  throw std::runtime_error(what + ": " + why.message() + "\n  "
                           + reply.describe());
}

} // namespace

// -- rest_server ---------------------------------------------------------------

rest_server::rest_server(const std::string& backend)
  : dir_("parley-rest"), database_(backend) {
  std::filesystem::create_directories(dir_ / "knowledge");
  std::vector<std::string> args{"--host",
                                "127.0.0.1",
                                "--port",
                                "0",
                                "--database-url",
                                database_.url_text(),
                                "--log-level",
                                "debug",
                                "--knowledge-dir",
                                (dir_ / "knowledge").string()};
  // The temporary folder as working directory keeps a developer's `.env`
  // out of the test.
  process_ = std::make_unique<server_process>(
    server_process::default_executable(), args,
    std::map<std::string, std::string>{
      {"PARLEY_ADMIN_TOKEN", test_admin_token}},
    dir_.str());
  if (!process_->wait_until_listening(start_timeout)) {
    auto status = process_->running()
                    ? std::string{"still running"}
                    : process_->wait_exit(exit_timeout).to_string();
    throw std::runtime_error(
      "the server on " + backend + " did not print `listening on "
      "http://HOST:PORT` within "
      + std::to_string(start_timeout.count()) + " ms (" + status
      + "); its output:\n" + tail_lines(process_->lines(), 0));
  }
}

rest_server::~rest_server() = default; // server_process kills and reaps

bool rest_server::answers() {
  try {
    http_get(host(), port(), "/health", std::chrono::milliseconds{3000});
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

void rest_server::stop() {
  if (!process_->running())
    return;
  process_->terminate();
  auto status = process_->wait_exit(exit_timeout);
  EXPECT_TRUE(status.is_exit(0))
    << "after SIGTERM the server on " << database_.backend() << " "
    << status.to_string() << "; its last lines:\n"
    << tail_lines(process_->lines(), 0, 20000);
}

// -- rest_fixture --------------------------------------------------------------

std::map<std::string, std::unique_ptr<rest_server>>& rest_fixture::servers() {
  static std::map<std::string, std::unique_ptr<rest_server>> instances;
  return instances;
}

void rest_fixture::TearDownTestSuite() {
  for (auto& [backend, srv] : servers())
    srv->stop();
  servers().clear();
}

void rest_fixture::SetUp() {
  static const auto available = test_backends(); // throws under CI
  if (std::find(available.begin(), available.end(), backend())
      == available.end())
    FAIL() << "no " << backend()
           << " test server (run the test through ctest, or see "
              "tests/support/test_databases.hpp)";
  auto& slot = servers()[backend()];
  if (slot && !slot->answers()) {
    ADD_FAILURE() << "the shared server on " << backend()
                  << " stopped answering (after an earlier test); its last "
                     "lines:\n"
                  << tail_lines(slot->process().lines(), 0, 20000);
    slot.reset();
  }
  if (!slot)
    slot = std::make_unique<rest_server>(backend());
  server_ = slot.get();
  api_ = std::make_unique<rest_client>(server_->host(), server_->port());
  first_line_ = server_->process().line_count();
}

void rest_fixture::TearDown() {
  if (!HasFailure() || server_ == nullptr)
    return;
  ADD_FAILURE() << "server log (" << backend()
                << ") while the failed test ran:\n"
                << tail_lines(server_->process().lines(), first_line_);
}

std::string rest_fixture::unique(const std::string& prefix) {
  static std::atomic<std::uint64_t> counter{0};
  return prefix + std::to_string(::getpid()) + "n"
         + std::to_string(++counter) + "q";
}

std::string rest_fixture::unique_email(const std::string& prefix) {
  return unique(prefix) + "@example.com";
}

json rest_fixture::create_user(const std::string& name,
                               const std::string& email, const json& extra) {
  json body = extra;
  body["name"] = name;
  body["email"] = email;
  auto reply = api().post("/api/users", body);
  if (auto ok = is_success(reply, 201); !ok)
    unexpected("create_user", reply, ok);
  const auto& data = reply.data();
  if (!data.is_object() || !data.contains("user"))
    throw std::runtime_error("create_user: no data.user: " + reply.describe());
  return data["user"];
}

json rest_fixture::create_session(std::int64_t user_id,
                                  const std::string& title) {
  auto reply = api().post("/api/sessions",
                          {{"user_id", user_id}, {"title", title}});
  if (auto ok = is_success(reply, 201); !ok)
    unexpected("create_session", reply, ok);
  return reply.data();
}

json rest_fixture::chat_send(const json& body, const std::string& target) {
  auto reply = api().post(target, body);
  if (auto ok = is_success(reply, 201); !ok)
    unexpected("chat_send", reply, ok);
  return reply.data();
}

rest_reply rest_fixture::get_ok(const std::string& target) {
  auto reply = api().get(target);
  if (auto ok = is_success(reply, 200); !ok)
    unexpected("GET", reply, ok);
  return reply;
}

std::vector<json> rest_fixture::get_all(const std::string& target) {
  std::vector<json> result;
  auto sep = target.find('?') == std::string::npos ? "?" : "&";
  for (std::int64_t page = 1; page < 1000; ++page) {
    auto reply = get_ok(target + sep + "limit=100&page=" + std::to_string(page));
    const auto& data = reply.data();
    if (!data.is_array())
      throw std::runtime_error("get_all: data is not an array: "
                               + reply.describe());
    for (const auto& item : data)
      result.push_back(item);
    const auto& p = reply.json["pagination"];
    if (data.empty() || !p.is_object() || !p.contains("pages")
        || !p["pages"].is_number_integer() || page >= p["pages"].get<std::int64_t>())
      break;
  }
  return result;
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

std::vector<std::int64_t> ids_of(const json& items, const char* key) {
  std::vector<std::int64_t> result;
  if (!items.is_array())
    return result;
  for (const auto& item : items)
    if (item.is_object() && item.contains(key)
        && item[key].is_number_integer())
      result.push_back(item[key].get<std::int64_t>());
    else
      result.push_back(-1);
  return result;
}

} // namespace parley::test
