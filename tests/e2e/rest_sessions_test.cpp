// REST contract: /api/sessions and /api/sessions/{id}, on every test backend.

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rest_fixture.hpp"
#include "tests/e2e/rest_db_probe.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class rest_sessions : public rest_fixture {};

PARLEY_REST_SUITE(rest_sessions);

std::string session_path(std::int64_t id) {
  return "/api/sessions/" + std::to_string(id);
}

std::int64_t id_of(const json& object, const char* key = "id") {
  if (!object.is_object() || !object.contains(key)
      || !object[key].is_number_integer())
    throw std::runtime_error(std::string{"no integer \""} + key
                             + "\" in " + object.dump());
  return object[key].get<std::int64_t>();
}

TEST_P(rest_sessions, create_returns_201_with_the_session_and_a_token) {
  auto user = create_user("Session Owner", unique_email("so"));
  auto reply = api().post("/api/sessions",
                          {{"user_id", user["id"]}, {"title", "Billing question"}});
  ASSERT_TRUE(is_success(reply, 201));
  const auto& session = reply.data();
  ASSERT_TRUE(is_session_object(session)) << reply.describe();
  EXPECT_EQ(session["user_id"], user["id"]);
  EXPECT_EQ(session["title"], "Billing question");
  EXPECT_EQ(session["status"], "active");
  EXPECT_EQ(session["message_count"], 0);
  ASSERT_TRUE(session.contains("resume_token")
              && session["resume_token"].is_string()
              && !session["resume_token"].get<std::string>().empty())
    << reply.describe();

  auto got = api().get(session_path(id_of(session)));
  ASSERT_TRUE(is_success(got, 200));
  ASSERT_TRUE(is_session_object(got.data())) << got.describe();
  for (const char* key : {"id", "user_id", "title", "status", "channel",
                          "message_count", "created_at", "updated_at"})
    EXPECT_EQ(got.data()[key], session[key]) << key << ": " << got.describe();
  EXPECT_FALSE(got.data().contains("resume_token"))
    << "the token is shown once, when the session is created: "
    << got.describe();
}

TEST_P(rest_sessions, create_rejects_bad_input) {
  auto user = create_user("Creator", unique_email("cr"));
  auto uid = user["id"];
  EXPECT_TRUE(is_error(api().post("/api/sessions",
                                  {{"user_id", 987654321}, {"title", "x"}}),
                       404));
  const json bad[] = {
    {{"user_id", "abc"}, {"title", "x"}},
    {{"user_id", "1"}, {"title", "x"}},
    {{"user_id", 1.5}, {"title", "x"}},
    {{"user_id", json::array()}, {"title", "x"}},
    {{"user_id", uid}, {"title", 5}},
    {{"user_id", uid}, {"title", json::object()}},
  };
  for (const auto& body : bad) {
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(is_error(api().post("/api/sessions", body), 400));
  }
  // None of them created a session for the user.
  auto list = api().get("/api/sessions?user_id=" + uid.dump());
  ASSERT_TRUE(is_success(list, 200));
  EXPECT_TRUE(has_pagination(list, 1, 20, 0, 0));
}

TEST_P(rest_sessions, get_with_messages_lists_them_in_order) {
  auto email = unique_email("gm");
  auto first = chat_send({{"message", "hello"}, {"user_email", email}});
  auto sid = id_of(first, "session_id");
  auto second = chat_send({{"message", "Where is my order?"},
                           {"user_email", email},
                           {"session_id", sid},
                           {"resume_token", first["resume_token"]}});

  auto reply = api().get(session_path(sid) + "?include_messages=true");
  ASSERT_TRUE(is_success(reply, 200));
  const auto& session = reply.data();
  ASSERT_TRUE(is_session_object(session)) << reply.describe();
  EXPECT_EQ(session["id"], sid);
  EXPECT_EQ(session["user_id"], first["user_id"]);
  EXPECT_EQ(session["message_count"], 4);
  ASSERT_TRUE(session.contains("messages") && session["messages"].is_array())
    << reply.describe();
  const auto& messages = session["messages"];
  ASSERT_EQ(messages.size(), 4u) << reply.describe();
  for (const auto& m : messages)
    EXPECT_TRUE(is_message_object(m));
  EXPECT_EQ(ids_of(messages),
            (std::vector<std::int64_t>{first["message"]["id"].get<std::int64_t>(),
                                       first["message"]["response_id"].get<std::int64_t>(),
                                       second["message"]["id"].get<std::int64_t>(),
                                       second["message"]["response_id"].get<std::int64_t>()}))
    << reply.describe();
  EXPECT_EQ(messages[0]["message"], "hello");
  EXPECT_EQ(messages[0]["is_user"], true);
  EXPECT_EQ(messages[1]["is_user"], false);
  EXPECT_EQ(messages[1]["message"], first["message"]["response"]);
  EXPECT_EQ(messages[2]["message"], "Where is my order?");
  EXPECT_EQ(messages[3]["message"], second["message"]["response"]);

  // The same list as GET /api/messages?session_id= shows.
  auto listed = api().get("/api/messages?session_id=" + std::to_string(sid));
  ASSERT_TRUE(is_success(listed, 200));
  EXPECT_EQ(listed.data(), messages) << listed.describe();

  // Without the flag, or with it false, no messages.
  for (std::string query : {"", "?include_messages=false"}) {
    auto plain = api().get(session_path(sid) + query);
    ASSERT_TRUE(is_success(plain, 200));
    EXPECT_FALSE(plain.data().contains("messages")) << plain.describe();
    EXPECT_EQ(plain.data()["message_count"], 4) << plain.describe();
  }
}

TEST_P(rest_sessions, update_changes_title_and_status) {
  auto user = create_user("Updater", unique_email("up"));
  auto session = create_session(id_of(user), "Old title");
  auto path = session_path(id_of(session));

  auto reply = api().put(path, {{"title", "New title"}, {"status", "inactive"}});
  ASSERT_TRUE(is_success(reply, 200));
  ASSERT_TRUE(is_session_object(reply.data())) << reply.describe();
  EXPECT_EQ(reply.data()["id"], session["id"]);
  EXPECT_EQ(reply.data()["title"], "New title");
  EXPECT_EQ(reply.data()["status"], "inactive");
  EXPECT_EQ(reply.data()["user_id"], user["id"]);
  EXPECT_GE(reply.data()["updated_at"].get<std::string>(),
            session["updated_at"].get<std::string>());

  auto back = api().put(path, {{"status", "active"}});
  ASSERT_TRUE(is_success(back, 200));
  EXPECT_EQ(back.data()["status"], "active");
  EXPECT_EQ(back.data()["title"], "New title") << "only status was sent";

  auto got = api().get(path);
  ASSERT_TRUE(is_success(got, 200));
  EXPECT_EQ(got.data()["title"], "New title");
  EXPECT_EQ(got.data()["status"], "active");

  const json bad[] = {
    {{"status", "closed"}},
    {{"status", "all"}},
    {{"status", ""}},
    {{"status", "ACTIVE"}},
    {{"status", 1}},
    {{"title", 5}},
    {{"title", json::array()}},
  };
  for (const auto& body : bad) {
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(is_error(api().put(path, body), 400));
  }
  auto unchanged = api().get(path);
  ASSERT_TRUE(is_success(unchanged, 200));
  EXPECT_EQ(unchanged.data()["status"], "active");
  EXPECT_EQ(unchanged.data()["title"], "New title");

  EXPECT_TRUE(is_error(api().put(session_path(987654321), {{"title", "x"}}), 404));
}

TEST_P(rest_sessions, delete_removes_messages_and_events) {
  auto email = unique_email("del");
  auto sent = chat_send({{"message", "hello"}, {"user_email", email}});
  auto sid = id_of(sent, "session_id");
  auto uid = id_of(sent, "user_id");
  chat_send({{"message", "thanks"},
             {"user_email", email},
             {"session_id", sid},
             {"resume_token", sent["resume_token"]}});
  // A second session of the same user that must survive.
  auto keep = chat_send({{"message", "hi"}, {"user_email", email}});
  auto keep_sid = id_of(keep, "session_id");
  ASSERT_NE(sid, keep_sid);
  rest_db_probe probe{server().database()};
  EXPECT_EQ(probe.rows("messages", sid), 4);

  auto reply = api().del(session_path(sid));
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_EQ(reply.data(),
            json({{"id", sid}, {"message", "Session deleted successfully"}}))
    << reply.describe();

  EXPECT_TRUE(is_error(api().get(session_path(sid)), 404));
  EXPECT_TRUE(is_error(api().get(session_path(sid) + "?include_messages=true"),
                       404));
  EXPECT_TRUE(is_error(api().put(session_path(sid), {{"title", "x"}}), 404));
  EXPECT_TRUE(is_error(api().del(session_path(sid)), 404));

  // Its messages are gone from the API and from the tables; its events too.
  auto left = get_all("/api/messages?user_id=" + std::to_string(uid));
  EXPECT_FALSE(left.empty());
  for (const auto& m : left)
    EXPECT_EQ(m["session_id"], keep_sid) << m;
  EXPECT_EQ(probe.rows("messages", sid), 0);
  EXPECT_EQ(probe.rows("chat_events", sid), 0);
  // The other session and the user are untouched.
  auto other = api().get(session_path(keep_sid) + "?include_messages=true");
  ASSERT_TRUE(is_success(other, 200));
  EXPECT_EQ(other.data()["message_count"], 2) << other.describe();
  EXPECT_TRUE(is_success(api().get("/api/users/" + std::to_string(uid)), 200));
  EXPECT_EQ(probe.rows("messages", keep_sid), 2);
}

TEST_P(rest_sessions, list_filters_by_user_and_status_newest_first) {
  auto user = create_user("Lister", unique_email("ls"));
  auto uid = id_of(user);
  auto other = create_user("Somebody else", unique_email("ls-other"));
  create_session(id_of(other), "not mine");
  std::vector<std::int64_t> created;
  for (int i = 0; i < 3; ++i)
    created.push_back(id_of(create_session(uid, "S" + std::to_string(i))));
  std::vector<std::int64_t> newest_first(created.rbegin(), created.rend());

  auto base = "/api/sessions?user_id=" + std::to_string(uid);
  auto all = api().get(base);
  ASSERT_TRUE(is_success(all, 200));
  EXPECT_TRUE(has_pagination(all, 1, 20, 3, 1));
  EXPECT_EQ(ids_of(all.data()), newest_first) << all.describe();
  for (const auto& s : all.data()) {
    EXPECT_TRUE(is_session_object(s));
    EXPECT_EQ(s["user_id"], uid);
    EXPECT_FALSE(s.contains("resume_token")) << s;
  }

  auto made_inactive = api().put(session_path(created[1]), {{"status", "inactive"}});
  ASSERT_TRUE(is_success(made_inactive, 200));

  auto active = api().get(base + "&status=active");
  ASSERT_TRUE(is_success(active, 200));
  EXPECT_TRUE(has_pagination(active, 1, 20, 2, 1));
  for (const auto& s : active.data())
    EXPECT_EQ(s["status"], "active") << active.describe();

  auto inactive = api().get(base + "&status=inactive");
  ASSERT_TRUE(is_success(inactive, 200));
  EXPECT_TRUE(has_pagination(inactive, 1, 20, 1, 1));
  EXPECT_EQ(ids_of(inactive.data()), std::vector<std::int64_t>{created[1]})
    << inactive.describe();

  auto every = api().get(base + "&status=all");
  ASSERT_TRUE(is_success(every, 200));
  EXPECT_TRUE(has_pagination(every, 1, 20, 3, 1));

  for (std::string status : {"closed", "ACTIVE", "HANDOFF", "active,inactive",
                             " "}) {
    SCOPED_TRACE("status=" + status);
    EXPECT_TRUE(is_error(api().get(base + "&status=" + url_encode(status)), 400));
  }

  // Pagination over the user's sessions.
  auto page1 = api().get(base + "&limit=2");
  ASSERT_TRUE(is_success(page1, 200));
  EXPECT_TRUE(has_pagination(page1, 1, 2, 3, 2));
  auto page2 = api().get(base + "&limit=2&page=2");
  ASSERT_TRUE(is_success(page2, 200));
  EXPECT_TRUE(has_pagination(page2, 2, 2, 3, 2));
  auto page3 = api().get(base + "&limit=2&page=3");
  ASSERT_TRUE(is_success(page3, 200));
  EXPECT_TRUE(has_pagination(page3, 3, 2, 3, 2));
  auto both = ids_of(page1.data());
  auto rest = ids_of(page2.data());
  both.insert(both.end(), rest.begin(), rest.end());
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, created);

  // A user with no sessions: an empty page, not 404.
  auto lonely = create_user("Lonely", unique_email("lonely"));
  auto none = api().get("/api/sessions?user_id=" + lonely["id"].dump());
  ASSERT_TRUE(is_success(none, 200));
  EXPECT_TRUE(has_pagination(none, 1, 20, 0, 0));
}

TEST_P(rest_sessions, handoff_is_a_status_filter_and_closing_ends_it) {
  auto email = unique_email("ho");
  auto first = chat_send({{"message", "I need a human"}, {"user_email", email}});
  auto sid = id_of(first, "session_id");
  auto path = session_path(sid);
  auto base = "/api/sessions?user_id=" + first["user_id"].dump();
  auto with_status = [&](const std::string& status) {
    auto reply = api().get(base + "&status=" + status);
    EXPECT_TRUE(is_success(reply, 200)) << reply.describe();
    return ids_of(reply.data());
  };
  EXPECT_EQ(with_status("handoff"), std::vector<std::int64_t>{sid});
  EXPECT_TRUE(with_status("active").empty()) << "handed off is not active";
  EXPECT_EQ(with_status("all"), std::vector<std::int64_t>{sid});
  auto send = [&](const std::string& text) {
    return chat_send({{"message", text},
                      {"user_email", email},
                      {"session_id", sid},
                      {"resume_token", first["resume_token"]}});
  };

  // A message for the human moves updated_at to its own time.
  auto waiting = send("hello? anyone?");
  EXPECT_EQ(waiting["message"]["waiting_for_agent"], true);
  auto details = api().get(path + "?include_messages=true");
  ASSERT_TRUE(is_success(details, 200));
  EXPECT_EQ(details.data()["updated_at"],
            details.data()["messages"].back()["created_at"])
    << details.describe();
  EXPECT_EQ(details.data()["messages"].back()["message"], "hello? anyone?");
  EXPECT_EQ(details.data()["title"], "I need a human");

  // Closed by the support team: no longer waiting for anyone.
  auto closed = api().put(path, {{"status", "inactive"}});
  ASSERT_TRUE(is_success(closed, 200));
  EXPECT_EQ(closed.data()["status"], "inactive");
  EXPECT_TRUE(with_status("handoff").empty());
  EXPECT_EQ(with_status("inactive"), std::vector<std::int64_t>{sid});
  auto queue = api().get("/api/handoffs?limit=100");
  ASSERT_TRUE(is_success(queue, 200));
  for (const auto& item : queue.data()["items"])
    EXPECT_NE(item["id"], sid) << queue.describe();
  // The customer writes again: the bot answers and the session is active.
  auto answered = send("are you still there?");
  EXPECT_EQ(answered["message"]["waiting_for_agent"], false);
  EXPECT_TRUE(answered["message"]["response"].is_string()) << answered;
  EXPECT_EQ(with_status("active"), std::vector<std::int64_t>{sid});
}

TEST_P(rest_sessions, an_untitled_session_is_named_by_its_first_message) {
  auto email = unique_email("tt");
  auto user = create_user("Titles", email);
  auto titled = create_session(id_of(user), "Billing question");
  auto untitled = create_session(id_of(user), "");
  auto send = [&](const json& session, const std::string& text) {
    chat_send({{"message", text},
               {"user_email", email},
               {"session_id", session["id"]},
               {"resume_token", session["resume_token"]}});
  };
  send(titled, "Hello there");
  send(untitled, "  My   parcel\tarrived damaged,\nwhat now?");
  send(untitled, "Order 124");
  auto list = api().get("/api/sessions?user_id=" + user["id"].dump());
  ASSERT_TRUE(is_success(list, 200));
  ASSERT_EQ(list.data().size(), 2u) << list.describe();
  for (const auto& session : list.data()) {
    if (session["id"] == titled["id"])
      EXPECT_EQ(session["title"], "Billing question") << "kept";
    else
      EXPECT_EQ(session["title"], "My parcel arrived damaged,")
        << list.describe();
  }
  // The most recent message puts its session first.
  EXPECT_EQ(list.data()[0]["id"], untitled["id"]) << list.describe();
  send(titled, "Thanks");
  auto again = api().get("/api/sessions?user_id=" + user["id"].dump());
  ASSERT_TRUE(is_success(again, 200));
  EXPECT_EQ(again.data()[0]["id"], titled["id"]) << again.describe();
}

TEST_P(rest_sessions, list_without_user_defaults_to_limit_20) {
  auto user = create_user("Anyone", unique_email("any"));
  create_session(id_of(user), "one");
  auto reply = api().get("/api/sessions");
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_TRUE(has_consistent_pagination(reply, 1, 20));
  EXPECT_GE(reply.json["pagination"]["total"].get<std::int64_t>(), 1);
  for (const auto& s : reply.data())
    EXPECT_TRUE(is_session_object(s));
  // Newest first across users too: most recently updated first, the
  // higher id first among equal times.
  const auto& items = reply.data();
  for (std::size_t i = 1; i < items.size(); ++i) {
    auto earlier = std::make_pair(items[i - 1]["updated_at"].get<std::string>(),
                                  items[i - 1]["id"].get<std::int64_t>());
    auto later = std::make_pair(items[i]["updated_at"].get<std::string>(),
                                items[i]["id"].get<std::int64_t>());
    EXPECT_GT(earlier, later) << "items " << i - 1 << " and " << i << " of "
                              << reply.describe();
  }
}

TEST_P(rest_sessions, message_count_counts_both_rows_of_each_exchange) {
  auto email = unique_email("mc");
  auto sent = chat_send({{"message", "one"}, {"user_email", email}});
  auto sid = id_of(sent, "session_id");
  chat_send({{"message", "two"},
             {"user_email", email},
             {"session_id", sid},
             {"resume_token", sent["resume_token"]}});
  auto list = api().get("/api/sessions?user_id=" + sent["user_id"].dump());
  ASSERT_TRUE(is_success(list, 200));
  ASSERT_EQ(list.data().size(), 1u) << list.describe();
  EXPECT_EQ(list.data()[0]["id"], sid);
  EXPECT_EQ(list.data()[0]["message_count"], 4) << list.describe();
  EXPECT_EQ(list.data()[0]["user_id"], sent["user_id"]);
}

TEST_P(rest_sessions, bad_ids_and_query_values_are_400) {
  for (std::string id : {"abc", "1.0", "-3", "0", "1e3"}) {
    SCOPED_TRACE("id: " + id);
    EXPECT_TRUE(is_error(api().get("/api/sessions/" + id), 400));
    EXPECT_TRUE(is_error(api().put("/api/sessions/" + id, {{"title", "x"}}), 400));
    EXPECT_TRUE(is_error(api().del("/api/sessions/" + id), 400));
  }
  EXPECT_TRUE(is_error(api().get(session_path(987654321)), 404));
  EXPECT_TRUE(is_error(api().del(session_path(987654321)), 404));
  for (std::string query : {"user_id=abc", "user_id=1.5", "limit=0", "limit=101",
                            "page=0", "page=x", "limit=-5"}) {
    SCOPED_TRACE(query);
    EXPECT_TRUE(is_error(api().get("/api/sessions?" + query), 400));
  }
}

} // namespace
