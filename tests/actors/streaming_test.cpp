#include <soci/soci.h>

#include "tests/actors/session_test_base.hpp"

namespace parley::test {
namespace {

using strings = std::vector<std::string>;

/// What the scripted responder was asked, for the test to answer at will.
struct script {
  struct call {
    reply_request request;
    session_actor requester;
    caf::typed_response_promise<reply_result> promise;
  };
  std::vector<call> calls;
  std::vector<std::uint64_t> cancelled;
};

/// Stands in for an LLM: answers only when the test tells it to (a promise
/// must be delivered by its own actor, hence the `finish` messages), after
/// streaming deltas the way an LLM connection will. Dynamically typed so that
/// it can take the test's messages; it speaks responder_actor's interface.
caf::behavior scripted_responder(caf::event_based_actor* self,
                                 std::shared_ptr<script> s) {
  return {
    [self, s](generate_atom, reply_request& request) {
      // Before make_response_promise, which takes the sender out of the
      // current message.
      auto requester = caf::actor_cast<session_actor>(self->current_sender());
      auto promise = self->make_response_promise<reply_result>();
      s->calls.push_back(
        script::call{std::move(request), std::move(requester), promise});
      return promise;
    },
    [s](cancel_atom, std::uint64_t request_id) {
      s->cancelled.push_back(request_id);
    },
    [s](std::size_t call, reply_result& result) {
      s->calls.at(call).promise.deliver(std::move(result));
    },
    [s](std::size_t call, caf::error& err) {
      s->calls.at(call).promise.deliver(std::move(err));
    },
  };
}

class streaming_test : public session_test_base {
protected:
  streaming_test() : calls(std::make_shared<script>()) {
    start();
    auto current = *directory->get();
    scripted = sys->spawn(scripted_responder, calls);
    current.responder = caf::actor_cast<responder_actor>(scripted);
    directory->set(current);
  }

  // A test that ends (or fails an ASSERT) with a call still open must not
  // hang the teardown: the open promises hold the scripted actor (and its
  // behavior holds them), so it would never end and the actor system would
  // wait for it forever. Drop them and stop it.
  ~streaming_test() override {
    calls->calls.clear();
    caf::anon_send_exit(scripted, caf::exit_reason::user_shutdown);
    run();
  }

  void stream(std::size_t call, const std::string& text) {
    auto& c = calls->calls.at(call);

    caf::anon_send(c.requester, delta_atom_v, c.request.request_id, text);
    run();
  }

  void finish(std::size_t call, const std::string& text) {
    reply_result result;
    result.text = text;
    result.source = "llm";
    result.tokens_used = 7;
    result.finish_reason = "completed";
    caf::anon_send(scripted, call, std::move(result));
    run();
  }

  std::string stored_answer(std::int64_t reply_to, std::string& reason) {
    std::string content;
    probe().sql() << "SELECT content, finish_reason FROM messages WHERE "
                     "reply_to = :r",
      soci::use(reply_to), soci::into(content), soci::into(reason);
    return content;
  }

  std::shared_ptr<script> calls;
  caf::actor scripted;
};

TEST_F(streaming_test, deltas_reach_the_client_before_the_answer) {
  auto conn = connect();
  say(conn, "tell me", "m1");
  ASSERT_EQ(calls->calls.size(), 1u);
  stream(0, "Hel");
  stream(0, "lo!");
  finish(0, "Hello!");
  ASSERT_EQ(conn->types(), (strings{"session", "ack", "typing", "delta",
                                    "delta", "message"}));
  auto reply_to = conn->of_type("ack").at(0)["message_id"];
  auto deltas = conn->of_type("delta");
  EXPECT_EQ(deltas[0]["reply_to"], reply_to);
  EXPECT_EQ(deltas[0]["offset"], 0);
  EXPECT_EQ(deltas[0]["text"], "Hel");
  EXPECT_EQ(deltas[1]["offset"], 3);
  EXPECT_EQ(deltas[1]["text"], "lo!");
  auto answer = conn->of_type("message").at(0);
  EXPECT_EQ(answer["text"], "Hello!");
  EXPECT_EQ(answer["source"], "llm");
}

TEST_F(streaming_test, cancel_keeps_what_was_streamed) {
  auto conn = connect();
  say(conn, "tell me a long story", "m1");
  stream(0, "Once upon");
  auto reply_to = conn->of_type("ack").at(0)["message_id"].get<std::int64_t>();
  caf::anon_send(conn->bound, cancel_atom_v, reply_to);
  run();
  ASSERT_EQ(calls->cancelled, std::vector<std::uint64_t>{
                                calls->calls.at(0).request.request_id});
  auto answers = conn->of_type("message");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["text"], "Once upon");
  EXPECT_EQ(answers[0]["finish_reason"], "cancelled");
  std::string reason;
  EXPECT_EQ(stored_answer(reply_to, reason), "Once upon");
  EXPECT_EQ(reason, "cancelled");
  // The LLM's late pieces and answer change nothing.
  stream(0, " a time");
  finish(0, "Once upon a time");
  EXPECT_EQ(conn->of_type("message").size(), 1u);
  EXPECT_EQ(conn->of_type("delta").size(), 1u);
  // The next message is answered normally.
  say(conn, "thanks", "m2");
  ASSERT_EQ(calls->calls.size(), 2u);
  finish(1, "You're welcome");
  EXPECT_EQ(conn->of_type("message").size(), 2u);
}

TEST_F(streaming_test, a_cancel_for_another_message_changes_nothing) {
  auto conn = connect();
  say(conn, "hello", "m1");
  auto reply_to = conn->of_type("ack").at(0)["message_id"].get<std::int64_t>();
  caf::anon_send(conn->bound, cancel_atom_v, reply_to + 100);
  run();
  EXPECT_TRUE(calls->cancelled.empty());
  finish(0, "Hi");
  EXPECT_EQ(conn->of_type("message").at(0)["finish_reason"], "completed");
}

TEST_F(streaming_test, a_failure_after_streaming_keeps_the_partial_text) {
  auto conn = connect();
  say(conn, "explain", "m1");
  stream(0, "Partly ");
  caf::anon_send(scripted, std::size_t{0},
                 caf::make_error(caf::sec::request_receiver_down));
  run();
  auto answers = conn->of_type("message");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["text"], "Partly ");
  EXPECT_EQ(answers[0]["finish_reason"], "interrupted");
  EXPECT_EQ(calls->calls.size(), 1u) << "no second attempt";
}

TEST_F(streaming_test, a_resumed_client_gets_what_was_streamed_meanwhile) {
  auto first = connect();
  say(first, "story please", "m1");
  stream(0, "One ");
  auto ack_seq = first->of_type("ack").at(0)["seq"].get<std::int64_t>();
  drop(first);
  stream(0, "two ");
  auto second = resume(first, ack_seq);
  stream(0, "three");
  finish(0, "One two three");
  // Typing first: the page shows the answer in the making (and can stop
  // it) before the catch-up delta fills it in.
  ASSERT_EQ(second->types(),
            (strings{"session", "typing", "delta", "delta", "message"}));
  auto reply_to = first->of_type("ack").at(0)["message_id"];
  EXPECT_EQ(second->frames[1]["reply_to"], reply_to);
  auto catch_up = second->frames[2];
  EXPECT_EQ(catch_up["reply_to"], reply_to);
  EXPECT_EQ(catch_up["offset"], 0);
  EXPECT_EQ(catch_up["text"], "One two ");
  EXPECT_EQ(second->frames[3]["offset"], 8);
  EXPECT_EQ(second->frames[3]["text"], "three");
  EXPECT_EQ(second->frames[4]["text"], "One two three");
  EXPECT_GT(second->frames[1]["seq"].get<std::int64_t>(), ack_seq);
  EXPECT_GT(catch_up["seq"], second->frames[1]["seq"]);
}

TEST_F(streaming_test, a_resume_before_any_delta_still_shows_typing) {
  auto first = connect();
  say(first, "story please", "m1");
  ASSERT_EQ(first->types(), (strings{"session", "ack", "typing"}));
  auto reply_to = first->of_type("ack").at(0)["message_id"];
  // The client saw the typing frame: a repeat needs a higher seq, or the
  // client would drop it as seen.
  auto last_seq = first->frames.back()["seq"].get<std::int64_t>();
  drop(first);
  auto second = resume(first, last_seq);
  ASSERT_EQ(second->types(), (strings{"session", "typing"}))
    << "typing, though nothing was streamed yet";
  EXPECT_EQ(second->frames[1]["reply_to"], reply_to);
  EXPECT_GT(second->frames[1]["seq"].get<std::int64_t>(), last_seq);
  // Typing frames are live state: nothing of them is stored.
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 1);
  // The Stop button names that message, and it works.
  caf::anon_send(second->bound, cancel_atom_v, reply_to.get<std::int64_t>());
  run();
  ASSERT_EQ(calls->cancelled.size(), 1u);
  auto answer = second->of_type("message").at(0);
  EXPECT_EQ(answer["finish_reason"], "cancelled");
  EXPECT_EQ(answer["reply_to"], reply_to);
  // The LLM's late answer changes nothing.
  finish(0, "Once upon a time");
  EXPECT_EQ(second->of_type("message").size(), 1u);
  // A client resuming now finds nothing in the making: no typing.
  auto third = resume(first, answer["seq"].get<std::int64_t>());
  EXPECT_EQ(third->types(), strings{"session"});
}

TEST_F(streaming_test, the_answer_that_hands_off_says_so) {
  auto conn = connect();
  say(conn, "I want a human", "h1");
  reply_result result;
  result.text = "A human agent will take over.";
  result.source = "fallback";
  result.finish_reason = "completed";
  result.has_state = true;
  result.intent = "ESCALATE_TO_HUMAN";
  result.session_status = "handoff";
  caf::anon_send(scripted, std::size_t{0}, std::move(result));
  run();
  auto answer = conn->of_type("message").at(0);
  EXPECT_EQ(answer["text"], "A human agent will take over.");
  EXPECT_EQ(answer["handoff"], true);
  // The bot is quiet now: an ack, no typing, no answer.
  say(conn, "hello?", "h2");
  EXPECT_EQ(conn->types(),
            (strings{"session", "ack", "typing", "message", "ack"}));
  EXPECT_EQ(calls->calls.size(), 1u);
  auto last_seq = conn->frames.back()["seq"].get<std::int64_t>();
  auto again = resume(conn, last_seq);
  EXPECT_EQ(again->frames.at(0)["status"], "handoff");
  // A replay comes from the database rows, which do not keep the flag: the
  // greeting's status is what counts after a resume.
  auto replay = resume(conn, 0);
  auto replayed = replay->of_type("message").at(0);
  EXPECT_EQ(replayed["id"], answer["id"]);
  EXPECT_FALSE(replayed.contains("handoff"));
  EXPECT_EQ(replay->frames.at(0)["status"], "handoff");
}


/// Fails every attempt at call `first` and the retries after it, until the
/// session gives the message up.
class given_up_test : public streaming_test {
protected:
  void fail_every_attempt(std::size_t first) {
    auto attempts = static_cast<std::size_t>(settings_.max_reply_attempts);
    for (std::size_t i = 0; i < attempts; ++i) {
      ASSERT_EQ(calls->calls.size(), first + i + 1);
      caf::anon_send(scripted, first + i,
                     caf::make_error(caf::sec::request_receiver_down));
      run();
      advance(settings_.retry_delay * static_cast<int>(i + 1));
    }
  }
};

TEST_F(given_up_test, a_given_up_message_is_answered_when_sent_again) {
  auto conn = connect();
  say(conn, "hello", "m1");
  fail_every_attempt(0);
  auto errors = conn->of_type("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]["code"], "internal_error");
  EXPECT_EQ(errors[0]["client_id"], "m1") << "names the message to send again";
  EXPECT_TRUE(conn->of_type("message").empty());
  // The client sends it again: acknowledged as before, and answered now.
  auto calls_before = calls->calls.size();
  say(conn, "hello", "m1");
  ASSERT_EQ(calls->calls.size(), calls_before + 1);
  finish(calls_before, "Hi there");
  auto acks = conn->of_type("ack");
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0]["message_id"], acks[1]["message_id"]);
  auto answers = conn->of_type("message");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["reply_to"], acks[0]["message_id"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 2);
}

TEST_F(given_up_test, a_resume_of_the_live_session_answers_what_it_gave_up) {
  auto first = connect();
  say(first, "hello", "m1");
  fail_every_attempt(0);
  auto last_seq = first->frames.back()["seq"].get<std::int64_t>();
  drop(first);
  auto calls_before = calls->calls.size();
  auto second = resume(first, last_seq);
  ASSERT_EQ(calls->calls.size(), calls_before + 1)
    << "the resume starts another attempt";
  finish(calls_before, "Hi again");
  auto answers = second->of_type("message");
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0]["text"], "Hi again");
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE is_user = 0"), 1);
}

} // namespace
} // namespace parley::test
