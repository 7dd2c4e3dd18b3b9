#include "actors/session_actor.hpp"

#include <algorithm>
#include <limits>
#include <optional>

#include <spdlog/logger.h>

#include "actors/client_connection.hpp"
#include "agent/conversation_state.hpp"
#include "actors/errors.hpp"
#include "actors/fallback_replies.hpp"
#include "actors/resume_token.hpp"
#include "actors/session_title.hpp"
#include "actors/timed_request.hpp"
#include "config/logging.hpp"
#include "transport/protocol.hpp"

namespace parley {

session_state::~session_state() {
  // The actor is going away (drained, lingered out or killed): tell the
  // client instead of leaving a socket nobody answers.
  if (conn)
    conn->close(close_codes::going_away, "session ended");
  for (auto& [waiting, request] : waiting_attaches)
    waiting->close(close_codes::going_away, "session ended");
  // REST callers get an answer instead of a timeout.
  auto ended = make_error(errc::shutting_down, "the session ended");
  for (auto& op : waiting_ops)
    op.fail(ended);
  for (auto& queued : replies)
    for (auto& waiter : queued.waiters)
      waiter.deliver(ended);
}

namespace {

using self_pointer = session_actor::stateful_pointer<session_state>;

/// The message_type of user messages written while a human has the session.
constexpr const char* to_agent_type = "to_agent";

session_actor handle_of(self_pointer self) {
  return caf::actor_cast<session_actor>(self);
}

// -- frames -------------------------------------------------------------------

/// Sends every frame the outbox has ready, in seq order. Without a socket
/// they are dropped: acks and replies are in the database and replayed on
/// resume; typing, pong and errors are not worth keeping.
void flush_frames(self_pointer self) {
  auto& st = self->state;
  for (auto& frame : st.outbox.take_ready())
    if (st.conn)
      st.conn->send(std::move(frame));
}

/// `client_id` names the refused message, if it had an id.
void emit_error(self_pointer self, const char* code, std::string message,
                std::string_view client_id = {}) {
  self->state.outbox.emit([&](std::int64_t seq) {
    return protocol::error_frame_text(seq, code, message, client_id);
  });
  flush_frames(self);
}

/// Lets the socket read on: frames from a client wait in TCP while its
/// session is behind (client_connection::frame_handled).
void frame_handled(self_pointer self) {
  if (self->state.conn)
    self->state.conn->frame_handled();
}

/// A message refused by a limit: the client sends it again later.
void emit_refusal(self_pointer self, const char* code,
                  const std::string& message,
                  std::chrono::milliseconds retry_after,
                  const std::string& client_id) {
  self->state.outbox.emit([&](std::int64_t seq) {
    return protocol::error_frame_text(seq, code, message, retry_after.count(),
                                      client_id);
  });
  flush_frames(self);
}

/// Refuses a socket that may not join this session. Seq 0: the frame is
/// about the connection, not part of any session's stream.
void reject(const connection_ptr& conn, const char* code,
            const std::string& message, std::uint16_t close_code) {
  conn->send(protocol::error_frame_text(0, code, message));
  conn->close(close_code, message);
}

void record_event(self_pointer self, const char* type, std::string payload) {
  auto& st = self->state;
  if (auto svc = st.directory->get(); svc->persistence)
    self->send(svc->persistence, event_atom_v,
               storage::new_event{st.chat.session_id, type,
                                  std::move(payload)});
}

// -- life cycle ---------------------------------------------------------------

bool idle(const session_state& st) {
  return !st.attaching && !st.replying && st.replies.empty()
         && st.pending_stores == 0;
}

/// Ends the actor once it has nothing left to do: at once while draining
/// (closing the socket with "going away"), after `linger` when no socket is
/// attached.
void check_idle(self_pointer self) {
  auto& st = self->state;
  if (!idle(st))
    return;
  if (st.draining) {
    if (st.conn) {
      st.conn->close(close_codes::going_away, "server shutting down");
      st.conn = nullptr;
      record_event(self, "session_closed", R"({"reason":"shutdown"})");
    }
    self->quit();
    return;
  }
  if (st.conn)
    return;
  if (!st.loaded || st.settings->linger.count() <= 0) {
    self->quit();
    return;
  }
  if (st.claimed_elsewhere) {
    st.log->info("session={} resumed on another gateway; this actor ends",
                 st.chat.session_id);
    self->quit();
    return;
  }
  auto generation = ++st.linger_generation;
  self->delayed_send(self, st.settings->linger, linger_atom_v, generation);
}

void bind(self_pointer self, connection_ptr conn) {
  auto& st = self->state;
  if (st.conn && st.conn != conn)
    st.conn->close(close_codes::replaced, "session resumed on another socket");
  st.conn = std::move(conn);
  st.claimed_elsewhere = false;
  ++st.linger_generation; // cancels a pending linger timeout
  st.conn->bind(handle_of(self));
}

// -- answering ----------------------------------------------------------------

/// Who answers user messages: the support agent, or without one the
/// responder itself.
responder_actor answerer(const services& svc) {
  if (svc.agent)
    return responder_actor{svc.agent};
  return svc.responder;
}

/// The agent state a stored answer leaves behind.
std::string state_payload(const chat_state& chat) {
  return agent::conversation_state{chat.intent, chat.pending_slot,
                                   chat.low_confidence_streak}
    .to_json_text();
}

void pump(self_pointer self);

void reply_failed(self_pointer self, const caf::error& err) {
  auto& st = self->state;
  ++st.reply_failures;
  st.log->warn("session={} answering message {} failed (attempt {}): {}",
               st.chat.session_id, st.replies.front().message.id,
               st.reply_failures, describe(err));
  if (st.reply_failures < st.settings->max_reply_attempts) {
    // Stay `replying` until the retry, so nothing overtakes this message.
    self->delayed_send(self, st.settings->retry_delay * st.reply_failures,
                       retry_atom_v);
    return;
  }
  // Give up for now: the message stays stored and unanswered, and a later
  // resume answers it.
  for (auto& waiter : st.replies.front().waiters)
    waiter.deliver(make_error(errc::responder_failed,
                              "the assistant could not answer; the message "
                              "is stored"));
  auto client_id = st.replies.front().message.client_id;
  st.given_up.push_back(std::move(st.replies.front().message));
  st.replies.pop_front();
  st.replying = false;
  st.reply_failures = 0;
  emit_error(self, protocol::codes::internal_error,
             "the assistant could not answer right now; your message is "
             "saved and will be answered when you reconnect",
             client_id);
  pump(self);
  check_idle(self);
}

void store_reply(self_pointer self, reply_result result) {
  auto& st = self->state;
  auto svc = st.directory->get();
  const auto& question = st.replies.front();
  auto seq = st.outbox.reserve();
  storage::new_assistant_message row;
  row.session_id = st.chat.session_id;
  row.user_id = question.message.user_id;
  row.reply_to = question.message.id;
  row.role = "assistant";
  row.content = std::move(result.text);
  row.source = std::move(result.source);
  row.finish_reason = result.finish_reason.empty() ? "completed"
                                                   : result.finish_reason;
  row.tokens_used = result.tokens_used;
  row.response_time = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - question.received)
                        .count();
  row.seq = seq;
  // The agent's new state commits with the answer that leads to it: a
  // session resumed after a crash asks no question twice and forgets none.
  chat_state next = st.chat;
  if (result.has_state) {
    next.intent = result.intent;
    next.pending_slot = result.pending_slot;
    next.low_confidence_streak = result.low_confidence_streak;
    // Stored only when it changes: most answers leave it as it was, and an
    // event row per answer was a fifth of the database's work. With an
    // agent's message in flight (which clears it) the order of the two
    // matters, so it is stored then whatever it is.
    bool unchanged = next.intent == st.chat.intent
                     && next.pending_slot == st.chat.pending_slot
                     && next.low_confidence_streak
                          == st.chat.low_confidence_streak;
    if (!unchanged || st.pending_stores > 0)
      row.agent_state = state_payload(next);
    if (result.session_status == "handoff" && !st.chat.handoff)
      row.session_status = "handoff";
  }
  bool handoff = !row.session_status.empty();
  timed_request(self, st.settings->store_timeout, svc->persistence,
                store_atom_v, std::move(row))
    .then(
      [self, seq, next, has_state = result.has_state,
       handoff](storage::message_record& stored) {
        auto& st = self->state;
        if (has_state) {
          st.chat.intent = next.intent;
          st.chat.pending_slot = next.pending_slot;
          st.chat.low_confidence_streak = next.low_confidence_streak;
        }
        // The answer whose commit hands the session off says so, for
        // the client's "a human was asked for" banner.
        std::optional<bool> hands_off;
        if (handoff) {
          if (!st.chat.handoff)
            hands_off = true;
          st.chat.handoff = true;
          st.log->info("session={} handed off to a human agent",
                       st.chat.session_id);
        }
        if (stored.seq == seq) {
          st.outbox.fill(seq, protocol::reply_frame(seq, stored, hands_off));
        } else {
          // An answer was stored before (exactly one per message): send it.
          st.outbox.cancel(seq);
          st.outbox.emit([&](std::int64_t s) {
            return protocol::reply_frame(s, stored, hands_off);
          });
        }
        auto& answered = st.replies.front();
        for (auto& waiter : answered.waiters)
          waiter.deliver(chat_exchange{answered.message, stored});
        st.chat.remember("user", answered.message.content);
        st.chat.remember("assistant", stored.content);
        st.replies.pop_front();
        if (st.replies.empty())
          st.replies.shrink_to_fit(); // idle: no 512-byte block kept
        st.replying = false;
        st.reply_failures = 0;
        flush_frames(self);
        pump(self);
        check_idle(self);
      },
      [self, seq](caf::error& err) {
        self->state.outbox.cancel(seq);
        flush_frames(self);
        reply_failed(self, err);
      });
}

/// Stores what was streamed so far as the answer: the client cancelled, or
/// the responder failed after it had started streaming.
void store_partial(self_pointer self, const char* finish_reason) {
  auto& st = self->state;
  reply_result result;
  result.text = st.partial;
  result.source = "llm"; // only LLM responders stream
  result.tokens_used = estimate_tokens(st.partial);
  result.finish_reason = finish_reason;
  store_reply(self, std::move(result));
}

/// Starts answering the oldest waiting message, if none is being answered.
void pump(self_pointer self) {
  auto& st = self->state;
  if (st.replying || st.replies.empty() || !st.loaded)
    return;
  st.replying = true;
  st.generating = true;
  st.partial.clear();
  auto request_id = ++st.request_id;
  const auto& question = st.replies.front();
  st.outbox.emit([&](std::int64_t seq) {
    return protocol::typing_frame(seq, question.message.id);
  });
  flush_frames(self);
  auto svc = st.directory->get();
  reply_request request;
  request.request_id = request_id;
  request.session_id = st.chat.session_id;
  request.reply_to = question.message.id;
  request.text = question.message.content;
  request.intent = st.chat.intent;
  request.pending_slot = st.chat.pending_slot;
  request.low_confidence_streak = st.chat.low_confidence_streak;
  request.history = st.chat.history_vector();
  // A cancelled request may still answer later: its answer is ignored.
  auto current = [self, request_id] {
    auto& st = self->state;
    return st.generating && st.request_id == request_id;
  };
  st.log->debug("session={} asks for the answer to message {} (request {})",
                st.chat.session_id, request.reply_to, request_id);
  timed_request(self, st.settings->reply_timeout, answerer(*svc),
                generate_atom_v, std::move(request))
    .then(
      [self, current](reply_result& result) {
        if (!current())
          return;
        self->state.generating = false;
        store_reply(self, std::move(result));
      },
      [self, current](caf::error& err) {
        if (!current())
          return;
        auto& st = self->state;
        st.generating = false;
        // Text the user has seen is kept; otherwise try again (by then the
        // supervisor may have put the fallback in the responder's place).
        if (!st.partial.empty())
          store_partial(self, "interrupted");
        else
          reply_failed(self, err);
      });
}

void enqueue_reply(self_pointer self, storage::message_record message,
                   std::vector<chat_promise> waiters = {}) {
  self->state.replies.push_back(queued_reply{
    std::move(message), std::chrono::steady_clock::now(), std::move(waiters)});
}

/// A message sent again whose answer is not stored yet: a REST caller waits
/// with the first; a message nobody is answering (given up on, or from
/// before a restart) gets answered now.
void wait_for_answer(self_pointer self, const storage::message_record& message,
                     std::optional<chat_promise> waiter) {
  auto& st = self->state;
  for (auto& queued : st.replies) {
    if (queued.message.id == message.id) {
      if (waiter)
        queued.waiters.push_back(std::move(*waiter));
      return;
    }
  }
  auto& given_up = st.given_up;
  given_up.erase(std::remove_if(given_up.begin(), given_up.end(),
                                [&](const auto& m) {
                                  return m.id == message.id;
                                }),
                 given_up.end());
  std::vector<chat_promise> waiters;
  if (waiter)
    waiters.push_back(std::move(*waiter));
  enqueue_reply(self, message, std::move(waiters));
}

// -- user messages ------------------------------------------------------------

/// When a client that waits for answers may try again: a guess, since
/// answers take as long as they take.
constexpr auto pending_retry = std::chrono::milliseconds{2000};

/// The session's own limits, checked before a message is stored: how many
/// answers it waits for, and how fast it sends. Null: go ahead (a token is
/// taken).
std::optional<caf::error> over_limit(self_pointer self) {
  auto& st = self->state;
  if (st.replies.size() + st.pending_stores
      >= st.settings->max_pending_replies)
    return make_error(errc::too_many_pending,
                      "wait for the answers to your earlier messages, then "
                      "send this one again",
                      pending_retry);
  auto now = self->clock().now();
  if (st.message_rate && !st.message_rate->try_take(now)) {
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(
      st.message_rate->wait_time(now));
    return make_error(errc::rate_limited,
                      "you are sending messages too fast; send this one "
                      "again in a moment",
                      std::max(wait, std::chrono::milliseconds{1}));
  }
  return std::nullopt;
}

/// Stores a user message, acknowledges it after the commit and queues it for
/// an answer. `waiter` is set for REST messages, which get the stored
/// question and answer as their reply.
void submit_message(self_pointer self, std::string text, std::string client_id,
                    std::string message_type, std::int64_t user_id,
                    std::optional<chat_promise> waiter) {
  auto& st = self->state;
  if (st.draining) {
    if (waiter)
      waiter->deliver(make_error(errc::shutting_down,
                                 "the server is restarting; try again"));
    else
      emit_error(self, protocol::codes::shutting_down,
                 "the server is restarting; send the message again after "
                 "reconnecting",
                 client_id);
    return;
  }
  if (auto refusal = over_limit(self)) {
    st.log->info("session={} message refused: {}", st.chat.session_id,
                 describe(*refusal));
    if (waiter)
      waiter->deliver(*refusal);
    else
      emit_refusal(self,
                   is(*refusal, errc::rate_limited)
                     ? protocol::codes::rate_limited
                     : protocol::codes::too_many_pending,
                   context_text(*refusal), retry_after(*refusal), client_id);
    return;
  }
  auto seq = st.outbox.reserve();
  ++st.pending_stores;
  storage::new_user_message row;
  row.session_id = st.chat.session_id;
  row.user_id = user_id != 0 ? user_id : st.chat.user_id;
  row.client_id = client_id;
  // Sessions opened over the WebSocket have no title: their first message
  // gives them one (the database keeps a title it has).
  row.session_title = title_from_message(text);
  row.content = std::move(text);
  row.message_type = message_type.empty() ? "text" : std::move(message_type);
  // While a human agent has the conversation, messages are for them: stored
  // and acknowledged, but the bot does not answer.
  if (st.chat.handoff)
    row.message_type = to_agent_type;
  row.seq = seq;
  auto svc = st.directory->get();
  timed_request(self, st.settings->store_timeout, svc->persistence,
                store_atom_v, std::move(row))
    .then(
      [self, seq, waiter](storage::user_message_result& result) mutable {
        auto& st = self->state;
        --st.pending_stores;
        const auto& stored = result.message;
        if (result.duplicate) {
          // Seen before: repeat what the client may have missed, nothing
          // else. An answer still in the making arrives on its own.
          st.outbox.cancel(seq);
          st.outbox.emit([&](std::int64_t s) {
            return protocol::ack_frame(s, stored.client_id, stored.id);
          });
          if (result.has_reply)
            st.outbox.emit([&](std::int64_t s) {
              return protocol::reply_frame(s, result.reply);
            });
          if (result.has_reply || stored.message_type == to_agent_type) {
            if (waiter)
              waiter->deliver(chat_exchange{stored, result.reply});
          } else {
            wait_for_answer(self, stored, std::move(waiter));
          }
        } else if (stored.message_type == to_agent_type) {
          st.outbox.fill(seq, protocol::ack_frame(seq, stored.client_id,
                                                  stored.id));
          st.chat.remember("user", stored.content);
          if (waiter)
            waiter->deliver(chat_exchange{stored, {}});
        } else {
          st.outbox.fill(seq, protocol::ack_frame(seq, stored.client_id,
                                                  stored.id));
          std::vector<chat_promise> waiters;
          if (waiter)
            waiters.push_back(std::move(*waiter));
          enqueue_reply(self, stored, std::move(waiters));
        }
        flush_frames(self);
        pump(self);
        check_idle(self);
      },
      [self, seq, waiter,
       client_id = std::move(client_id)](caf::error& err) mutable {
        auto& st = self->state;
        --st.pending_stores;
        st.outbox.cancel(seq);
        st.log->error("session={} storing a message failed: {}",
                      st.chat.session_id, describe(err));
        if (waiter)
          waiter->deliver(err);
        else
          emit_error(self, protocol::codes::storage_unavailable,
                     "your message could not be saved; please send it "
                     "again",
                     client_id);
        flush_frames(self);
        check_idle(self);
      });
}

void submit_chat(self_pointer self, chat_request& request,
                 chat_promise waiter) {
  submit_message(self, std::move(request.text), std::move(request.client_id),
                 std::move(request.message_type), request.user_id,
                 std::move(waiter));
}

// -- the support team ---------------------------------------------------------

/// Stores a message from the support side (a human agent's reply, or the
/// notice that the bot is back), with the session's new status and a fresh
/// agent state in the same transaction, and sends it once committed.
void post_staff_message(self_pointer self, storage::new_assistant_message row,
                        bool handoff_after, message_promise waiter) {
  auto& st = self->state;
  if (st.draining) {
    waiter.deliver(make_error(errc::shutting_down,
                              "the server is restarting; try again"));
    return;
  }
  auto seq = st.outbox.reserve();
  ++st.pending_stores;
  row.session_id = st.chat.session_id;
  row.user_id = st.chat.user_id;
  row.finish_reason = "completed";
  row.seq = seq;
  // The caller may name the status a handoff ends in (closing: inactive).
  if (handoff_after != st.chat.handoff && row.session_status.empty())
    row.session_status = handoff_after ? "handoff" : "active";
  // Whatever the bot was asking for is moot once a person stepped in.
  chat_state cleared;
  row.agent_state = state_payload(cleared);
  auto svc = st.directory->get();
  timed_request(self, st.settings->store_timeout, svc->persistence,
                store_atom_v, std::move(row))
    .then(
      [self, seq, handoff_after,
       waiter](storage::message_record& stored) mutable {
        auto& st = self->state;
        --st.pending_stores;
        // A message that changes who answers says so, for the client's
        // banner: an agent taking over (true), the release notice (false).
        std::optional<bool> hands_off;
        if (st.chat.handoff != handoff_after) {
          hands_off = handoff_after;
          st.log->info("session={} {}", st.chat.session_id,
                       handoff_after ? "taken over by a human agent"
                                     : "handed back to the bot");
        }
        st.chat.handoff = handoff_after;
        st.chat.intent.clear();
        st.chat.pending_slot.clear();
        st.chat.low_confidence_streak = 0;
        st.chat.remember(stored.role, stored.content);
        st.outbox.fill(seq, protocol::reply_frame(seq, stored, hands_off));
        waiter.deliver(stored);
        flush_frames(self);
        check_idle(self);
      },
      [self, seq, waiter](caf::error& err) mutable {
        auto& st = self->state;
        --st.pending_stores;
        st.outbox.cancel(seq);
        st.log->error("session={} storing a support message failed: {}",
                      st.chat.session_id, describe(err));
        waiter.deliver(err);
        flush_frames(self);
        check_idle(self);
      });
}

void post_agent_message(self_pointer self, agent_message& msg,
                        message_promise waiter) {
  storage::new_assistant_message row;
  row.role = "agent";
  row.source = "agent";
  row.author = std::move(msg.agent_name);
  row.content = std::move(msg.text);
  post_staff_message(self, std::move(row), true, std::move(waiter));
}

void release_to_bot(self_pointer self, message_promise waiter) {
  auto& st = self->state;
  if (!st.chat.handoff) {
    waiter.deliver(make_error(errc::conflict,
                              "the session is not with a human agent"));
    return;
  }
  storage::new_assistant_message row;
  row.role = "assistant";
  row.source = "system";
  row.content = st.settings->released_text;
  post_staff_message(self, std::move(row), false, std::move(waiter));
}

/// The support team set the session's status (PUT /api/sessions/{id}).
/// While a human has the session, that ends the handoff as a release does:
/// the customer is told and the bot answers again (a closed session becomes
/// active with the customer's next message). The notice and the new status
/// commit together. Otherwise there is nothing to do here: the status is
/// the database's business, and an empty record says so.
void set_status(self_pointer self, const std::string& status,
                message_promise waiter) {
  auto& st = self->state;
  if (!st.chat.handoff || status == "handoff") {
    waiter.deliver(storage::message_record{});
    return;
  }
  storage::new_assistant_message row;
  row.role = "assistant";
  row.source = "system";
  row.content = st.settings->released_text;
  row.session_status = status;
  post_staff_message(self, std::move(row), false, std::move(waiter));
}

// -- attaching sockets --------------------------------------------------------

void start_attach(self_pointer self, connection_ptr conn,
                  attach_request request);

void load_headless(self_pointer self);

void finish_attach(self_pointer self) {
  auto& st = self->state;
  st.attaching = false;
  if (!st.waiting_attaches.empty()) {
    auto [conn, request] = std::move(st.waiting_attaches.front());
    st.waiting_attaches.pop_front();
    start_attach(self, std::move(conn), std::move(request));
    return;
  }
  if (!st.waiting_ops.empty()) {
    if (!st.loaded) {
      load_headless(self);
      return;
    }
    auto ops = std::move(st.waiting_ops);
    st.waiting_ops.clear();
    for (auto& op : ops)
      op.run();
  }
  check_idle(self);
}

void create_session(self_pointer self, connection_ptr conn) {
  auto& st = self->state;
  auto token = make_resume_token();
  storage::new_session request;
  request.channel = "websocket";
  request.resume_token_hash = hash_resume_token(token);
  auto svc = st.directory->get();
  timed_request(self, st.settings->store_timeout, svc->persistence,
                create_atom_v, std::move(request))
    .then(
      [self, conn, token](storage::session_record& session) {
        auto& st = self->state;
        st.loaded = true;
        st.chat.session_id = session.id;
        st.chat.user_id = session.user_id;
        st.token_hash = session.resume_token_hash;
        st.log->info("session={} conn={} started", session.id, conn->id());
        self->send(st.registry, register_atom_v, session.id, handle_of(self));
        st.outbox.emit([&](std::int64_t seq) {
          return protocol::session_frame(seq, session.id, token, false,
                                         false);
        });
        bind(self, conn);
        flush_frames(self);
        finish_attach(self);
      },
      [self, conn](caf::error& err) {
        self->state.log->error("conn={} cannot start a session: {}",
                               conn->id(), describe(err));
        reject(conn, protocol::codes::storage_unavailable,
               "the chat is unavailable right now; please try again",
               close_codes::try_again_later);
        finish_attach(self);
      });
}

/// The conversation as the database has it: recent history, the agent's
/// state (intent, pending slot, doubt streak) and whether a human has it.
void restore_conversation(chat_state& chat,
                          const storage::session_snapshot& snap) {
  chat.history.clear();
  for (const auto& row : snap.history)
    chat.remember(row.role, row.content);
  auto saved = agent::conversation_state::parse(snap.agent_state);
  chat.intent = saved.intent;
  chat.pending_slot = saved.pending_slot;
  chat.low_confidence_streak = saved.low_confidence_streak;
  chat.handoff = snap.session.status == "handoff";
}

/// A fresh actor takes everything from the database: ids, history, the
/// next seq and the messages still waiting for an answer.
void load_from(self_pointer self, storage::session_snapshot& snap,
               std::int64_t client_last_seq) {
  auto& st = self->state;
  st.loaded = true;
  st.chat.session_id = snap.session.id;
  st.chat.user_id = snap.session.user_id;
  st.token_hash = snap.session.resume_token_hash;
  restore_conversation(st.chat, snap);
  st.outbox.advance_to(std::max(snap.max_seq, client_last_seq) + 1);
  for (auto& row : snap.unanswered)
    enqueue_reply(self, std::move(row));
  self->send(st.registry, register_atom_v, snap.session.id, handle_of(self));
}

/// The session went on without this actor: its client chatted through
/// another gateway while this one lingered. What that gateway stored is the
/// truth: history, agent state, hand-off, the next seq and what is still to
/// be answered.
void catch_up(self_pointer self, storage::session_snapshot& snap) {
  auto& st = self->state;
  st.log->info("session={} went on elsewhere (seq {} stored, {} here); "
               "catching up from the database",
               st.chat.session_id, snap.max_seq, st.outbox.next_seq() - 1);
  restore_conversation(st.chat, snap);
  st.outbox.advance_to(snap.max_seq + 1);
  for (auto& row : snap.unanswered) {
    auto queued = std::any_of(st.replies.begin(), st.replies.end(),
                              [&](const auto& q) {
                                return q.message.id == row.id;
                              });
    if (!queued)
      enqueue_reply(self, std::move(row));
  }
}

/// Asks the database for the session as it is, with the rows after this
/// actor's last seq.
auto load_newer(self_pointer self) {
  auto& st = self->state;
  return timed_request(self, st.settings->store_timeout,
                       st.directory->get()->persistence, load_atom_v,
                       st.chat.session_id, st.outbox.next_seq() - 1,
                       static_cast<std::uint32_t>(st.settings->history_limit));
}

/// Another gateway stored something for this session (a support agent's
/// message, a release, a REST message): its rows go to this actor's client
/// in seq order, as a resume would replay them, and the actor takes up the
/// session's state. `claimed`: the client resumed on another gateway; the
/// actor ends as soon as it is idle with no socket, instead of lingering,
/// and leaves the session to that gateway's actor (one still answering
/// finishes first: the database keeps one answer per message, whichever
/// actor stores it first).
void refresh(self_pointer self, bool claimed) {
  auto& st = self->state;
  if (claimed) {
    // Ends once idle with no socket: now, or when its socket closes (the
    // client may have left it half-open) or its last answer is stored.
    st.claimed_elsewhere = true;
    if (!st.conn) {
      check_idle(self);
      return;
    }
  }
  if (!st.loaded || st.attaching)
    return; // a load under way reads the latest anyway
  load_newer(self).then(
      [self](storage::session_snapshot& snap) {
        auto& st = self->state;
        if (snap.max_seq < st.outbox.next_seq())
          return; // nothing new, or this actor's own rows
        auto handoff = snap.session.status == "handoff";
        std::optional<bool> hands_off;
        if (handoff != st.chat.handoff)
          hands_off = handoff;
        for (const auto& row : snap.replay) {
          // Lower seqs were this actor's own (or sent already).
          if (row.seq < st.outbox.next_seq())
            continue;
          st.outbox.advance_to(row.seq);
          st.outbox.emit([&](std::int64_t seq) {
            return row.is_user
                     ? protocol::ack_frame(seq, row.client_id, row.id,
                                           row.content, row.created_at)
                     : protocol::reply_frame(seq, row,
                                             row.seq == snap.max_seq
                                               ? hands_off
                                               : std::nullopt);
          });
        }
        if (st.generating)
          st.outbox.advance_to(snap.max_seq + 1);
        else
          catch_up(self, snap);
        flush_frames(self);
        pump(self);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.log->warn("session={} cannot catch up with another gateway: {}",
                     st.chat.session_id, describe(err));
      });
}

/// The REST calls waiting for a load that failed fail with it.
void fail_waiting_ops(self_pointer self, const caf::error& err) {
  auto& st = self->state;
  auto ops = std::move(st.waiting_ops);
  st.waiting_ops.clear();
  for (auto& op : ops)
    op.fail(err);
}

/// Loads the session for REST messages, with no socket involved.
void load_headless(self_pointer self) {
  auto& st = self->state;
  st.attaching = true;
  auto session_id = st.waiting_ops.front().session_id;
  auto svc = st.directory->get();
  // No replay is needed: ask for the frames after the largest seq.
  timed_request(self, st.settings->store_timeout, svc->persistence,
                load_atom_v, session_id,
                std::numeric_limits<std::int64_t>::max(),
                static_cast<std::uint32_t>(st.settings->history_limit))
    .then(
      [self](storage::session_snapshot& snap) {
        load_from(self, snap, 0);
        pump(self);
        finish_attach(self);
      },
      [self](caf::error& err) {
        fail_waiting_ops(self, err);
        finish_attach(self);
      });
}

void resume_session(self_pointer self, connection_ptr conn,
                    attach_request request) {
  auto& st = self->state;
  auto svc = st.directory->get();
  timed_request(self, st.settings->store_timeout, svc->persistence,
                load_atom_v, request.session_id, request.last_seq,
                static_cast<std::uint32_t>(st.settings->history_limit))
    .then(
      [self, conn, request](storage::session_snapshot& snap) {
        auto& st = self->state;
        if (!resume_token_matches(request.resume_token,
                                  snap.session.resume_token_hash)) {
          st.log->warn("session={} conn={} resume refused: wrong token",
                       request.session_id, conn->id());
          reject(conn, protocol::codes::invalid_resume,
                 "unknown session or wrong resume token",
                 close_codes::policy_violation);
          finish_attach(self);
          return;
        }
        if (!st.loaded) {
          load_from(self, snap, request.last_seq);
        } else {
          if (snap.max_seq >= st.outbox.next_seq() && !st.generating)
            catch_up(self, snap);
          st.outbox.advance_to(request.last_seq + 1);
          // What this actor gave up on gets another try, as a fresh actor
          // would give it.
          auto given_up = std::move(st.given_up);
          st.given_up.clear();
          for (auto& message : given_up)
            enqueue_reply(self, std::move(message));
        }
        // An actor of the session lingering on another gateway steps
        // aside (on a gateway; one process alone has nobody to tell).
        self->send(st.registry, publish_atom_v,
                   session_news{st.chat.session_id, "claimed"});
        st.log->info("session={} conn={} resumed after seq {} ({} to replay, "
                     "{} waiting for an answer)",
                     st.chat.session_id, conn->id(), request.last_seq,
                     snap.replay.size(), st.replies.size());
        conn->send(protocol::session_frame(0, st.chat.session_id,
                                           request.resume_token, true,
                                           st.chat.handoff));
        // Frames at or past the outbox's first held seq are still on their
        // way through the outbox; everything before is replayed from the
        // database with its original seq.
        auto boundary = st.outbox.first_held_seq();
        for (const auto& row : snap.replay) {
          if (row.seq >= boundary)
            continue;
          // Replayed acks carry the text: a browser that lost its own copy
          // rebuilds the transcript from these frames alone.
          conn->send(row.is_user
                       ? protocol::ack_frame(row.seq, row.client_id, row.id,
                                             row.content, row.created_at)
                       : protocol::reply_frame(row.seq, row));
        }
        bind(self, conn);
        if (st.generating && !st.replies.empty()) {
          // An answer is in the making: typing is live state, never
          // replayed, so the new socket gets it afresh (with a seq above
          // the replay's, or the client would drop it), then what was
          // streamed while the client was away, in one piece.
          auto reply_to = st.replies.front().message.id;
          st.outbox.emit([&](std::int64_t seq) {
            return protocol::typing_frame(seq, reply_to);
          });
          if (!st.partial.empty())
            st.outbox.emit([&](std::int64_t seq) {
              return protocol::delta_frame(seq, reply_to, 0, st.partial);
            });
        }
        record_event(self, "session_resumed",
                     R"({"last_seq":)" + std::to_string(request.last_seq)
                       + "}");
        flush_frames(self);
        pump(self);
        finish_attach(self);
      },
      [self, conn, request](caf::error& err) {
        auto& st = self->state;
        if (is(err, errc::not_found)) {
          st.log->warn("conn={} resume refused: no session {}", conn->id(),
                       request.session_id);
          reject(conn, protocol::codes::invalid_resume,
                 "unknown session or wrong resume token",
                 close_codes::policy_violation);
        } else {
          st.log->error("session={} conn={} cannot resume: {}",
                        request.session_id, conn->id(), describe(err));
          reject(conn, protocol::codes::storage_unavailable,
                 "the chat is unavailable right now; please try again",
                 close_codes::try_again_later);
        }
        finish_attach(self);
      });
}

/// On a gateway, an actor without a socket may be behind the database: its
/// client chatted through another gateway meanwhile. It catches up before
/// a REST call acts on it, or what it stores would take seqs already used.
void sync_headless(self_pointer self) {
  auto& st = self->state;
  st.attaching = true;
  load_newer(self).then(
      [self](storage::session_snapshot& snap) {
        auto& st = self->state;
        if (snap.max_seq >= st.outbox.next_seq() && !st.generating)
          catch_up(self, snap);
        pump(self);
        finish_attach(self);
      },
      [self](caf::error& err) {
        fail_waiting_ops(self, err);
        finish_attach(self);
      });
}

/// Runs `run` now if the session is loaded (and, on a gateway without a
/// socket, up to date), else once it is (REST calls reach sessions that
/// have no live actor yet).
void when_loaded(self_pointer self, std::int64_t session_id,
                 std::function<void()> run,
                 std::function<void(const caf::error&)> fail) {
  auto& st = self->state;
  bool current = st.conn || !st.directory->get()->workers;
  if (st.loaded && !st.attaching && current) {
    run();
    return;
  }
  st.waiting_ops.push_back(
    waiting_op{session_id, std::move(run), std::move(fail)});
  if (st.attaching)
    return;
  if (st.loaded)
    sync_headless(self);
  else
    load_headless(self);
}

void start_attach(self_pointer self, connection_ptr conn,
                  attach_request request) {
  auto& st = self->state;
  if (st.draining) {
    reject(conn, protocol::codes::shutting_down,
           "the server is restarting; reconnect in a moment",
           close_codes::going_away);
    check_idle(self);
    return;
  }
  st.attaching = true;
  if (request.session_id == 0)
    create_session(self, std::move(conn));
  else
    resume_session(self, std::move(conn), std::move(request));
}

} // namespace

session_actor::behavior_type
session_fun(self_pointer self, std::shared_ptr<const service_directory> dir,
            session_registry_actor registry,
            std::shared_ptr<const session_settings> settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.directory = std::move(dir);
  st.registry = std::move(registry);
  st.log = logger("session");
  st.chat.history_limit = st.settings->history_limit;
  if (st.settings->message_rate > 0)
    st.message_rate.emplace(st.settings->message_rate,
                            st.settings->message_burst,
                            self->clock().now());
  return {
    [self](attach_atom, connection_ptr& conn, attach_request& request) {
      auto& st = self->state;
      if (st.attaching) {
        st.waiting_attaches.emplace_back(std::move(conn), std::move(request));
        return;
      }
      start_attach(self, std::move(conn), std::move(request));
    },
    [self](detach_atom, std::uint64_t conn_id) {
      auto& st = self->state;
      auto& waiting = st.waiting_attaches;
      waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                                   [conn_id](const auto& entry) {
                                     return entry.first->id() == conn_id;
                                   }),
                    waiting.end());
      if (!st.conn || st.conn->id() != conn_id)
        return; // a socket this session already let go of
      st.log->info("session={} conn={} disconnected", st.chat.session_id,
                   conn_id);
      st.conn = nullptr;
      record_event(self, "session_closed", "{}");
      check_idle(self);
    },
    [self](client_message& msg) {
      submit_message(self, std::move(msg.text), std::move(msg.client_id),
                     "text", 0, std::nullopt);
      frame_handled(self);
    },
    [self](ping_atom) {
      self->state.outbox.emit(
        [](std::int64_t seq) { return protocol::pong_frame(seq); });
      flush_frames(self);
      frame_handled(self);
    },
    [self](protocol_error& err) {
      if (err.retry_after_ms > 0)
        emit_refusal(self, err.code.c_str(), err.message,
                     std::chrono::milliseconds{err.retry_after_ms},
                     err.client_id);
      else
        emit_error(self, err.code.c_str(), std::move(err.message),
                   err.client_id);
      frame_handled(self);
    },
    [self](drain_atom) {
      self->state.draining = true;
      check_idle(self);
    },
    [self](retry_atom) {
      self->state.replying = false;
      pump(self);
    },
    [self](chat_atom, chat_request& request) -> caf::result<chat_exchange> {
      auto waiter = self->make_response_promise<chat_exchange>();
      auto session_id = request.session_id;
      when_loaded(
        self, session_id,
        [self, request = std::move(request), waiter]() mutable {
          auto& st = self->state;
          // The same check and answer as a resuming socket's: a caller
          // without the token learns nothing, not even that it exists.
          if (!resume_token_matches(request.resume_token, st.token_hash)) {
            st.log->warn("session={} REST message refused: wrong resume "
                         "token",
                         st.chat.session_id);
            waiter.deliver(make_error(errc::invalid_resume,
                                      "unknown session or wrong resume "
                                      "token"));
            return;
          }
          submit_chat(self, request, waiter);
        },
        [waiter](const caf::error& err) mutable { waiter.deliver(err); });
      return waiter;
    },
    [self](agent_msg_atom,
           agent_message& msg) -> caf::result<storage::message_record> {
      auto waiter = self->make_response_promise<storage::message_record>();
      auto session_id = msg.session_id;
      when_loaded(
        self, session_id,
        [self, msg = std::move(msg), waiter]() mutable {
          post_agent_message(self, msg, waiter);
        },
        [waiter](const caf::error& err) mutable { waiter.deliver(err); });
      return waiter;
    },
    [self](release_atom,
           std::int64_t session_id) -> caf::result<storage::message_record> {
      auto waiter = self->make_response_promise<storage::message_record>();
      when_loaded(
        self, session_id,
        [self, waiter]() mutable { release_to_bot(self, waiter); },
        [waiter](const caf::error& err) mutable { waiter.deliver(err); });
      return waiter;
    },
    [self](status_atom, std::int64_t session_id,
           std::string& status) -> caf::result<storage::message_record> {
      auto waiter = self->make_response_promise<storage::message_record>();
      when_loaded(
        self, session_id,
        [self, status = std::move(status), waiter]() mutable {
          set_status(self, status, waiter);
        },
        [waiter](const caf::error& err) mutable { waiter.deliver(err); });
      return waiter;
    },
    [self](delta_atom, std::uint64_t request_id, std::string& text) {
      auto& st = self->state;
      if (!st.generating || request_id != st.request_id || st.replies.empty())
        return; // a stale or cancelled request
      auto offset = st.partial.size();
      st.partial += text;
      auto reply_to = st.replies.front().message.id;
      st.outbox.emit([&](std::int64_t seq) {
        return protocol::delta_frame(seq, reply_to, offset, text);
      });
      flush_frames(self);
    },
    [self](cancel_atom, std::int64_t reply_to) {
      frame_handled(self);
      auto& st = self->state;
      // Only an answer still being generated can be cancelled; a cancel
      // that comes too late changes nothing (the answer is on its way).
      if (!st.generating || st.replies.empty()
          || st.replies.front().message.id != reply_to)
        return;
      st.generating = false;
      st.log->info("session={} answer to message {} cancelled after {} bytes",
                   st.chat.session_id, reply_to, st.partial.size());
      if (auto responder = answerer(*st.directory->get()))
        self->send(responder, cancel_atom_v, st.request_id);
      store_partial(self, "cancelled");
    },
    [self](deadline_atom) {
      on_deadline(self);
    },
    [self](linger_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation == st.linger_generation && !st.conn && idle(st)) {
        st.log->debug("session={} ends after lingering", st.chat.session_id);
        self->quit();
      }
    },
    [self](refresh_atom, bool claimed) { refresh(self, claimed); },
  };
}

} // namespace parley
