#include "tests/e2e/traffic_client.hpp"

#include <algorithm>
#include <exception>

namespace parley::test {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Bounds the traffic of one client whatever the server does.
constexpr std::size_t max_messages = 400;

// Two messages outstanding keep the server's queue for the session busy.
constexpr std::size_t max_in_flight = 2;

// How often the thread looks at the stop flag while waiting for frames.
constexpr auto read_slice = 200ms;

const char* const texts[] = {"hello", "thanks", "Where is my order?",
                             "hi, can you help me with my invoice?"};

std::chrono::milliseconds until(clock_type::time_point deadline) {
  return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - clock_type::now()),
                  0ms);
}

} // namespace

traffic_client::traffic_client(int index) : index_(index) {
  // nop
}

traffic_client::~traffic_client() {
  stop();
  join();
}

void traffic_client::open(const std::string& host, std::uint16_t port) {
  client_.connect(host, port, "/ws");
  auto frame = client_.read_json(ws_client::default_timeout);
  if (type_of(frame) != "session" || !frame.contains("session_id")
      || !frame["session_id"].is_number_integer()
      || !frame.contains("resume_token") || !frame["resume_token"].is_string())
    throw std::runtime_error("client " + std::to_string(index_)
                             + ": bad session frame: " + frame.dump());
  session_.session_id = frame["session_id"].get<std::int64_t>();
  session_.resume_token = frame["resume_token"].get<std::string>();
  session_.seq = seq_of(frame);
  last_seq_ = session_.seq;
}

void traffic_client::start(countdown_latch& progress,
                           std::size_t replies_wanted,
                           clock_type::time_point deadline) {
  thread_ = std::thread{[this, &progress, replies_wanted, deadline] {
    run(progress, replies_wanted, deadline);
  }};
}

void traffic_client::join() {
  if (thread_.joinable())
    thread_.join();
}

void traffic_client::problem(const std::string& what) {
  if (problems_.size() < 20)
    problems_.push_back("client " + std::to_string(index_) + " (session "
                        + std::to_string(session_.session_id) + "): " + what);
}

void traffic_client::run(countdown_latch& progress, std::size_t replies_wanted,
                         clock_type::time_point deadline) {
  end_ = ws_read_result{};
  try {
    while (!stop_ && clock_type::now() < deadline) {
      if (!draining_ && in_flight_ < max_in_flight && next_ < max_messages)
        send_next();
      auto result = client_.read_frame(std::min<std::chrono::milliseconds>(
        read_slice, until(deadline)));
      if (result.status == read_status::frame) {
        auto frame = nlohmann::json::parse(result.text, nullptr, false);
        if (frame.is_discarded() || result.binary)
          problem("not a JSON text frame: " + result.describe());
        else
          on_frame(frame);
      } else if (result.status != read_status::timeout) {
        end_ = result;
        break;
      }
      if (!reached_ && live_replies_ >= replies_wanted) {
        reached_ = true;
        progress.count_down();
      }
    }
  } catch (const std::exception& ex) {
    problem(std::string{"exception: "} + ex.what());
  }
  if (!reached_)
    progress.count_down(); // do not keep the test waiting; it checks reached_
}

void traffic_client::send_next() {
  auto id = "c" + std::to_string(index_) + "-" + std::to_string(next_);
  auto text = std::string{texts[next_ % std::size(texts)]} + " #" + id;
  ++next_;
  sent_.emplace(id, text);
  try {
    client_.send_json({{"type", "message"}, {"id", id}, {"text", text}},
                      2000ms);
    ++in_flight_;
  } catch (const ws_error&) {
    // The server closed the connection (shutdown, crash); the next read
    // reports how.
    draining_ = true;
  }
}

void traffic_client::on_frame(const nlohmann::json& frame) {
  auto type = type_of(frame);
  if (!frame.contains("seq") || !frame["seq"].is_number_integer()) {
    problem("frame without integer seq: " + frame.dump());
    return;
  }
  auto seq = frame["seq"].get<std::int64_t>();
  if (!resumed_) {
    if (seq <= last_seq_)
      problem("seq " + std::to_string(seq) + " after seq "
              + std::to_string(last_seq_) + ": " + frame.dump());
  } else if ((type == "ack" || type == "message") && seq <= resume_after_) {
    problem("resumed after seq " + std::to_string(resume_after_)
            + " but got " + frame.dump());
  }
  last_seq_ = std::max(last_seq_, seq);
  if (type == "ack") {
    if (!frame.contains("id") || !frame["id"].is_string()
        || !frame.contains("message_id")
        || !frame["message_id"].is_number_integer()) {
      problem("bad ack: " + frame.dump());
      return;
    }
    auto id = frame["id"].get<std::string>();
    auto message_id = frame["message_id"].get<std::int64_t>();
    if (sent_.count(id) == 0)
      problem("ack for a client id never sent: " + frame.dump());
    if (resumed_)
      ++stats_.resumed_acks;
    auto [pos, added] = acked_.emplace(id, message_id);
    if (!added && pos->second != message_id)
      problem("two message_ids for client id " + id + ": "
              + std::to_string(pos->second) + " and " + frame.dump());
  } else if (type == "message") {
    if (!frame.contains("reply_to") || !frame["reply_to"].is_number_integer()
        || !frame.contains("text") || !frame["text"].is_string()
        || frame["text"].get<std::string>().empty()) {
      problem("bad reply: " + frame.dump());
      return;
    }
    replies_[frame["reply_to"].get<std::int64_t>()].push_back(frame);
    if (resumed_)
      ++stats_.resumed_replies;
    if (!resumed_) {
      ++live_replies_;
      if (in_flight_ > 0)
        --in_flight_;
    }
  } else if (type == "error") {
    if (frame.value("code", "") == "shutting_down") {
      draining_ = true;
      ++stats_.shutting_down;
    }
    else
      problem("unexpected error frame: " + frame.dump());
  } else if (type != "typing" && type != "pong") {
    problem("unexpected frame: " + frame.dump());
  }
}

bool traffic_client::all_acked_answered() const {
  return std::all_of(acked_.begin(), acked_.end(), [this](const auto& kvp) {
    return replies_.count(kvp.second) != 0;
  });
}

void traffic_client::resume(const std::string& host, std::uint16_t port,
                            clock_type::time_point deadline) {
  resumed_ = true;
  resume_after_ = last_seq_;
  try {
    client_.connect(host, port,
                    resume_target(session_.session_id, session_.resume_token,
                                  resume_after_),
                    until(deadline));
    auto first = client_.read_json(until(deadline));
    if (type_of(first) != "session" || first.value("resumed", false) != true
        || first.value("session_id", std::int64_t{0}) != session_.session_id) {
      problem("resume after seq " + std::to_string(resume_after_)
              + " answered with " + first.dump());
      return;
    }
    // Replayed acks may still be on their way when the known ones are
    // answered; the server sends the replay before it reads our ping, so
    // once every ack seen before a pong is answered, all of them are.
    for (int round = 0; round < 20; ++round) {
      while (!all_acked_answered()) {
        auto result = client_.read_frame(until(deadline));
        if (result.status != read_status::frame) {
          problem("after resuming, waiting for replies: " + result.describe());
          return;
        }
        auto frame = nlohmann::json::parse(result.text, nullptr, false);
        if (frame.is_discarded()) {
          problem("not JSON: " + result.text);
          return;
        }
        on_frame(frame);
      }
      client_.send_json({{"type", "ping"}});
      for (;;) {
        auto frame = client_.read_json(until(deadline));
        if (type_of(frame) == "pong")
          break;
        on_frame(frame);
      }
      if (all_acked_answered())
        return;
    }
    problem("acks kept coming after resuming");
  } catch (const std::exception& ex) {
    problem(std::string{"resume: "} + ex.what());
  }
}

void traffic_client::close() {
  client_.close(1000, 2000ms);
}

} // namespace parley::test
