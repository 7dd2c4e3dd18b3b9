// REST contract: GET /api/messages, on every test backend.

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rest_fixture.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class rest_messages : public rest_fixture {};

PARLEY_REST_SUITE(rest_messages);

TEST_P(rest_messages, session_filter_lists_both_rows_in_time_order) {
  auto email = unique_email("ml");
  const char* texts[] = {"hello", "Where is my order?", "thank you"};
  auto cid = "cid-" + unique();
  std::vector<json> sent;
  std::int64_t sid = 0;
  json token;
  for (const char* text : texts) {
    json body{{"message", text}, {"user_email", email}};
    if (sid != 0) {
      body["session_id"] = sid;
      body["resume_token"] = token;
    }
    if (std::string{text} == "thank you")
      body["client_id"] = cid;
    sent.push_back(chat_send(body));
    if (sid == 0)
      token = sent.back()["resume_token"];
    sid = sent.back()["session_id"].get<std::int64_t>();
  }
  auto uid = sent[0]["user_id"];

  auto reply = api().get("/api/messages?session_id=" + std::to_string(sid));
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_TRUE(has_pagination(reply, 1, 50, 6, 1));
  const auto& items = reply.data();
  ASSERT_EQ(items.size(), 6u) << reply.describe();
  std::string last_time;
  for (std::size_t i = 0; i < items.size(); ++i) {
    SCOPED_TRACE("item " + std::to_string(i));
    const auto& m = items[i];
    ASSERT_TRUE(is_message_object(m));
    const auto& exchange = sent[i / 2]["message"];
    EXPECT_EQ(m["session_id"], sid);
    EXPECT_EQ(m["message_type"], "text");
    auto created = m["created_at"].get<std::string>();
    EXPECT_GE(created, last_time) << "ordered by time";
    last_time = created;
    if (i % 2 == 0) {
      EXPECT_EQ(m["id"], exchange["id"]);
      EXPECT_EQ(m["is_user"], true);
      EXPECT_EQ(m["role"], "user");
      EXPECT_EQ(m["message"], texts[i / 2]);
      EXPECT_EQ(m["user_id"], uid);
      EXPECT_TRUE(m["reply_to"].is_null()) << m;
    } else {
      EXPECT_EQ(m["id"], exchange["response_id"]);
      EXPECT_EQ(m["is_user"], false);
      EXPECT_EQ(m["role"], "assistant");
      EXPECT_EQ(m["message"], exchange["response"]);
      EXPECT_EQ(m["reply_to"], exchange["id"]);
      EXPECT_EQ(m["source"], "fallback");
      EXPECT_TRUE(m["client_id"].is_null()) << m;
      EXPECT_EQ(m["tokens_used"], exchange["tokens_used"]);
    }
  }
  EXPECT_TRUE(items[0]["client_id"].is_null()) << "sent without client_id";
  EXPECT_EQ(items[4]["client_id"], cid);
  auto ids = ids_of(items);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << reply.describe();
}

TEST_P(rest_messages, client_id_is_listed_when_given) {
  auto email = unique_email("cid");
  auto cid = "client-" + unique();
  auto sent = chat_send({{"message", "hi"}, {"user_email", email},
                         {"client_id", cid}});
  auto reply = api().get("/api/messages?session_id="
                         + sent["session_id"].dump());
  ASSERT_TRUE(is_success(reply, 200));
  ASSERT_EQ(reply.data().size(), 2u) << reply.describe();
  EXPECT_EQ(reply.data()[0]["client_id"], cid) << reply.describe();
  EXPECT_TRUE(reply.data()[1]["client_id"].is_null()) << reply.describe();
}

TEST_P(rest_messages, message_type_is_stored) {
  auto sent = chat_send({{"message", "see attachment"},
                         {"user_email", unique_email("mt")},
                         {"message_type", "file"},
                         {"metadata", {{"file", "a.pdf"}}}});
  EXPECT_EQ(sent["message"]["message_type"], "file");
  auto reply = api().get("/api/messages?session_id="
                         + sent["session_id"].dump());
  ASSERT_TRUE(is_success(reply, 200));
  ASSERT_EQ(reply.data().size(), 2u) << reply.describe();
  EXPECT_EQ(reply.data()[0]["message_type"], "file") << reply.describe();
}

TEST_P(rest_messages, user_filter_and_pagination) {
  auto email = unique_email("mu");
  auto other_email = unique_email("mu-other");
  auto first = chat_send({{"message", "m0"}, {"user_email", email}});
  auto uid = first["user_id"];
  auto sid = first["session_id"].get<std::int64_t>();
  auto token = first["resume_token"];
  std::vector<std::int64_t> user_rows{first["message"]["id"].get<std::int64_t>()};
  // Greetings: the agent answers each (five messages it cannot place in a
  // row would hand the session to a human, who answers none).
  for (int i = 1; i < 5; ++i)
    user_rows.push_back(
      chat_send({{"message", "hello m" + std::to_string(i)},
                 {"user_email", email},
                 {"session_id", sid},
                 {"resume_token", token}})["message"]["id"]
        .get<std::int64_t>());
  // Another session of the same user, and another user.
  user_rows.push_back(chat_send({{"message", "m5"}, {"user_email", email}})
                        ["message"]["id"]
                          .get<std::int64_t>());
  auto other = chat_send({{"message", "not mine"}, {"user_email", other_email}});

  auto mine = get_all("/api/messages?user_id=" + uid.dump());
  std::vector<std::int64_t> mine_user_rows;
  for (const auto& m : mine) {
    EXPECT_EQ(m["user_id"], uid) << m;
    EXPECT_NE(m["session_id"], other["session_id"]) << m;
    if (m["is_user"] == true)
      mine_user_rows.push_back(m["id"].get<std::int64_t>());
  }
  EXPECT_EQ(mine_user_rows, user_rows);

  // Pagination over the 10 rows of the first session.
  auto base = "/api/messages?session_id=" + std::to_string(sid);
  auto all = api().get(base);
  ASSERT_TRUE(is_success(all, 200));
  EXPECT_TRUE(has_pagination(all, 1, 50, 10, 1));
  std::vector<std::int64_t> paged;
  for (int page = 1; page <= 3; ++page) {
    auto reply = api().get(base + "&limit=4&page=" + std::to_string(page));
    ASSERT_TRUE(is_success(reply, 200));
    EXPECT_TRUE(has_pagination(reply, page, 4, 10, 3));
    for (auto id : ids_of(reply.data()))
      paged.push_back(id);
  }
  EXPECT_EQ(paged, ids_of(all.data())) << "pages in order, nothing twice";
  auto past = api().get(base + "&limit=4&page=4");
  ASSERT_TRUE(is_success(past, 200));
  EXPECT_TRUE(has_pagination(past, 4, 4, 10, 3));

  // Both filters together.
  auto combined = api().get(base + "&user_id=" + uid.dump());
  ASSERT_TRUE(is_success(combined, 200));
  for (const auto& m : combined.data()) {
    EXPECT_EQ(m["session_id"], sid);
    EXPECT_EQ(m["user_id"], uid);
  }
  auto crossed = api().get(base + "&user_id=" + other["user_id"].dump());
  ASSERT_TRUE(is_success(crossed, 200));
  EXPECT_TRUE(has_pagination(crossed, 1, 50, 0, 0));
}

TEST_P(rest_messages, after_id_lists_only_newer_messages) {
  auto email = unique_email("ma");
  auto first = chat_send({{"message", "hello"}, {"user_email", email}});
  auto sid = first["session_id"].get<std::int64_t>();
  auto token = first["resume_token"];
  auto base = "/api/messages?session_id=" + std::to_string(sid);
  auto all = api().get(base);
  ASSERT_TRUE(is_success(all, 200));
  ASSERT_EQ(all.data().size(), 2u) << all.describe();
  auto last = ids_of(all.data()).back();

  // Nothing new yet: an empty page, as a polling console sees it.
  auto nothing = api().get(base + "&after_id=" + std::to_string(last));
  ASSERT_TRUE(is_success(nothing, 200));
  EXPECT_TRUE(has_pagination(nothing, 1, 50, 0, 0));

  // Another exchange in this session and one in another session.
  auto second = chat_send({{"message", "thank you"},
                           {"user_email", email},
                           {"session_id", sid},
                           {"resume_token", token}});
  chat_send({{"message", "elsewhere"}, {"user_email", email}});
  auto newer = api().get(base + "&after_id=" + std::to_string(last));
  ASSERT_TRUE(is_success(newer, 200));
  EXPECT_TRUE(has_pagination(newer, 1, 50, 2, 1));
  ASSERT_EQ(newer.data().size(), 2u) << newer.describe();
  EXPECT_EQ(newer.data()[0]["id"], second["message"]["id"]);
  EXPECT_EQ(newer.data()[0]["message"], "thank you");
  EXPECT_EQ(newer.data()[1]["id"], second["message"]["response_id"]);
  for (const auto& m : newer.data()) {
    EXPECT_GT(m["id"].get<std::int64_t>(), last) << m;
    EXPECT_EQ(m["session_id"], sid) << m;
  }
  // 0 means from the start; with paging and the user filter.
  auto from_start = api().get(base + "&after_id=0");
  ASSERT_TRUE(is_success(from_start, 200));
  EXPECT_TRUE(has_pagination(from_start, 1, 50, 4, 1));
  auto paged = api().get(base + "&after_id=" + std::to_string(last)
                         + "&limit=1&page=2&user_id="
                         + first["user_id"].dump());
  ASSERT_TRUE(is_success(paged, 200));
  EXPECT_TRUE(has_pagination(paged, 2, 1, 2, 2));
  ASSERT_EQ(paged.data().size(), 1u) << paged.describe();
  EXPECT_EQ(paged.data()[0]["id"], second["message"]["response_id"]);
}

TEST_P(rest_messages, unfiltered_list_defaults_to_limit_50) {
  chat_send({{"message", "anything"}, {"user_email", unique_email("any")}});
  auto reply = api().get("/api/messages");
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_TRUE(has_consistent_pagination(reply, 1, 50));
  for (const auto& m : reply.data())
    EXPECT_TRUE(is_message_object(m));
}

TEST_P(rest_messages, unknown_session_or_user_gives_an_empty_page) {
  for (std::string query : {"session_id=987654321", "user_id=987654321"}) {
    SCOPED_TRACE(query);
    auto reply = api().get("/api/messages?" + query);
    ASSERT_TRUE(is_success(reply, 200));
    EXPECT_TRUE(has_pagination(reply, 1, 50, 0, 0));
  }
}

TEST_P(rest_messages, bad_query_values_are_400) {
  for (std::string query :
       {"session_id=abc", "session_id=1.5", "session_id=0x1", "user_id=x",
        "user_id=-", "limit=0", "limit=101", "page=0", "page=-2",
        "limit=ten", "after_id=-1", "after_id=x", "after_id=1.5",
        "session_id=1&after_id=abc"}) {
    SCOPED_TRACE(query);
    EXPECT_TRUE(is_error(api().get("/api/messages?" + query), 400));
  }
}

} // namespace
