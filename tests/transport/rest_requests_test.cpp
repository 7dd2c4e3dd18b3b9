#include "transport/rest_requests.hpp"

#include <gtest/gtest.h>

#include "transport/rest_routes.hpp"

namespace parley::transport {
namespace {

using nlohmann::json;

TEST(rest_routes, matches_paths_methods_and_ids) {
  auto m = match_rest("GET", "/api/users/42");
  EXPECT_EQ(m.kind, rest_match_kind::matched);
  EXPECT_EQ(m.endpoint, rest_endpoint::get_user);
  EXPECT_EQ(m.id, 42);
  EXPECT_EQ(match_rest("POST", "/api/messages").endpoint,
            rest_endpoint::chat_send);
  EXPECT_EQ(match_rest("HEAD", "/api/settings").endpoint,
            rest_endpoint::list_settings);
  auto wrong = match_rest("PATCH", "/api/users/1");
  EXPECT_EQ(wrong.kind, rest_match_kind::method_not_allowed);
  EXPECT_EQ(wrong.allow, "GET, PUT, DELETE");
  EXPECT_EQ(match_rest("GET", "/api/users/abc").kind, rest_match_kind::bad_id);
  EXPECT_EQ(match_rest("GET", "/api/users/0").kind, rest_match_kind::bad_id);
  EXPECT_EQ(match_rest("GET", "/api/users/1/x").kind,
            rest_match_kind::not_found);
  EXPECT_EQ(match_rest("GET", "/api/nope").kind, rest_match_kind::not_found);
  auto setting = match_rest("PUT", "/api/settings/enable_advanced_ai");
  EXPECT_EQ(setting.endpoint, rest_endpoint::put_setting);
  EXPECT_EQ(setting.key, "enable_advanced_ai");
  auto config = match_rest("GET", "/api/chat/config");
  EXPECT_EQ(config.endpoint, rest_endpoint::chat_config);
  EXPECT_EQ(config.access, rest_access::anyone);
  EXPECT_EQ(match_rest("HEAD", "/api/chat/config").endpoint,
            rest_endpoint::chat_config);
  auto post_config = match_rest("POST", "/api/chat/config");
  EXPECT_EQ(post_config.kind, rest_match_kind::method_not_allowed);
  EXPECT_EQ(post_config.allow, "GET");
  EXPECT_EQ(rest_paths().size(), 16u);
  EXPECT_EQ(match_rest("GET", "/api/cluster").endpoint, rest_endpoint::cluster);
  EXPECT_EQ(match_rest("GET", "/api/cluster").access, rest_access::admin);
}

TEST(rest_routes, parameters_may_sit_inside_the_path) {
  auto release = match_rest("POST", "/api/sessions/7/release");
  EXPECT_EQ(release.kind, rest_match_kind::matched);
  EXPECT_EQ(release.endpoint, rest_endpoint::release_session);
  EXPECT_EQ(release.id, 7);
  auto agent = match_rest("POST", "/api/sessions/12/agent-message");
  EXPECT_EQ(agent.endpoint, rest_endpoint::agent_message);
  EXPECT_EQ(agent.id, 12);
  EXPECT_EQ(match_rest("GET", "/api/sessions/7/release").kind,
            rest_match_kind::method_not_allowed);
  EXPECT_EQ(match_rest("POST", "/api/sessions/x/release").kind,
            rest_match_kind::bad_id);
  for (auto path : {"/api/sessions//release", "/api/sessions/1/2/release",
                    "/api/sessions/1/releases",
                    "/api/sessions/1/release/"})
    EXPECT_EQ(match_rest("POST", path).kind, rest_match_kind::not_found)
      << path;
  EXPECT_EQ(match_rest("GET", "/api/sessions/5").endpoint,
            rest_endpoint::get_session);
}

TEST(rest_requests, agent_replies_need_text) {
  auto ok = rest::parse_agent_reply(json{{"text", "Hello"}}, 100);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok.value.agent_name, "Support agent");
  EXPECT_EQ(rest::parse_agent_reply(json{{"text", "Hi"}, {"agent_name", "Dana"}},
                                    100)
              .value.agent_name,
            "Dana");
  EXPECT_FALSE(rest::parse_agent_reply(json::object(), 100));
  EXPECT_FALSE(rest::parse_agent_reply(json{{"text", "  "}}, 100));
  EXPECT_FALSE(rest::parse_agent_reply(json{{"text", 5}}, 100));
  EXPECT_FALSE(rest::parse_agent_reply(json{{"text", std::string(101, 'x')}},
                                       100));
  EXPECT_FALSE(rest::parse_agent_reply(
    json{{"text", "Hi"}, {"agent_name", std::string(256, 'x')}}, 100));
}

TEST(rest_requests, knowledge_queries_are_bounded) {
  auto ok = rest::parse_knowledge_query({{"q", "returns"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok.value.top_k, 3);
  EXPECT_EQ(rest::parse_knowledge_query({{"q", "x"}, {"top_k", "5"}}).value.top_k,
            5);
  EXPECT_FALSE(rest::parse_knowledge_query({}));
  EXPECT_FALSE(rest::parse_knowledge_query({{"q", " "}}));
  EXPECT_FALSE(rest::parse_knowledge_query({{"q", std::string(1001, 'x')}}));
  EXPECT_FALSE(rest::parse_knowledge_query({{"q", "\xff"}}));
  for (auto bad : {"0", "6", "two", "-1"})
    EXPECT_FALSE(rest::parse_knowledge_query({{"q", "x"}, {"top_k", bad}}))
      << bad;
  EXPECT_EQ(rest::parse_handoff_limit({}).value, 50u);
  EXPECT_FALSE(rest::parse_handoff_limit({{"limit", "0"}}));
  EXPECT_FALSE(rest::parse_handoff_limit({{"limit", "101"}}));
}

TEST(rest_requests, body_must_be_a_json_object) {
  EXPECT_EQ(rest::parse_body("text/plain", "{}").error->status, 415u);
  EXPECT_EQ(rest::parse_body("", "{}").error->status, 415u);
  EXPECT_TRUE(rest::parse_body("application/json; charset=utf-8", "{}"));
  EXPECT_TRUE(rest::parse_body("Application/JSON", "{\"a\":1}"));
  EXPECT_EQ(rest::parse_body("application/json", "{").error->status, 400u);
  EXPECT_EQ(rest::parse_body("application/json", "[1]").error->status, 400u);
}

TEST(rest_requests, pages_are_bounded) {
  auto defaults = rest::parse_page({}, 20);
  EXPECT_EQ(defaults.value.page, 1);
  EXPECT_EQ(defaults.value.limit, 20);
  EXPECT_TRUE(rest::parse_page({{"limit", "100"}}, 10));
  EXPECT_TRUE(rest::parse_page({{"limit", "1"}, {"page", "3"}}, 10));
  for (auto bad : {"0", "101", "-1", "x", "1.5"})
    EXPECT_FALSE(rest::parse_page({{"limit", bad}}, 10)) << bad;
  for (auto bad : {"0", "-2", "two"})
    EXPECT_FALSE(rest::parse_page({{"page", bad}}, 10)) << bad;
}

TEST(rest_requests, users_need_a_name_and_an_email) {
  EXPECT_TRUE(rest::parse_new_user(json{{"name", "A"}, {"email", "a@b.c"}}));
  EXPECT_FALSE(rest::parse_new_user(json{{"email", "a@b.c"}}));
  EXPECT_FALSE(rest::parse_new_user(json{{"name", " "}, {"email", "a@b.c"}}));
  EXPECT_FALSE(rest::parse_new_user(json{{"name", "A"}, {"email", "nope"}}));
  EXPECT_FALSE(rest::parse_new_user(json{{"name", 5}, {"email", "a@b.c"}}));
  EXPECT_FALSE(rest::parse_new_user(
    json{{"name", "A"}, {"email", "a@b.c"}, {"preferences", "dark"}}));
  auto patch = rest::parse_user_patch(json{{"status", "inactive"}});
  ASSERT_TRUE(patch);
  EXPECT_TRUE(patch.value.set_status);
  EXPECT_FALSE(patch.value.set_name);
  EXPECT_FALSE(rest::parse_user_patch(json{{"status", "gone"}}));
}

TEST(rest_requests, session_filters_are_checked) {
  auto q = rest::parse_session_query({{"user_id", "3"}, {"status", "active"}});
  ASSERT_TRUE(q);
  EXPECT_EQ(q.value.user_id, 3);
  EXPECT_EQ(q.value.status, "active");
  EXPECT_EQ(rest::parse_session_query({}).value.status, "all");
  EXPECT_FALSE(rest::parse_session_query({{"status", "open"}}));
  EXPECT_FALSE(rest::parse_session_query({{"user_id", "x"}}));
  // Every status a session can have is a filter, handoff included.
  for (const char* status : {"active", "inactive", "handoff", "all"}) {
    auto by_status = rest::parse_session_query({{"status", status}});
    ASSERT_TRUE(by_status) << status;
    EXPECT_EQ(by_status.value.status, status);
  }
  auto refused = rest::parse_session_query({{"status", "HANDOFF"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error->message,
            "'status' must be active, inactive, handoff or all");
  // A PUT still sets only active or inactive: a handoff has its endpoints.
  EXPECT_FALSE(rest::parse_session_patch(json{{"status", "handoff"}}));
  EXPECT_FALSE(rest::parse_session_create(json{{"user_id", "1"}}));
  EXPECT_TRUE(rest::parse_session_create(json{{"user_id", 1}}));
}

TEST(rest_requests, message_filters_are_checked) {
  auto q = rest::parse_message_query(
    {{"session_id", "7"}, {"user_id", "3"}, {"after_id", "42"}});
  ASSERT_TRUE(q) << q.error->message;
  EXPECT_EQ(q.value.session_id, 7);
  EXPECT_EQ(q.value.user_id, 3);
  EXPECT_EQ(q.value.after_id, 42);
  EXPECT_EQ(rest::parse_message_query({}).value.after_id, 0);
  EXPECT_EQ(rest::parse_message_query({{"after_id", "0"}}).value.after_id, 0)
    << "0: from the start";
  EXPECT_EQ(rest::parse_message_query({{"after_id", ""}}).value.after_id, 0);
  for (const char* bad : {"-1", "x", "1.5", "0x10", " 1", "1 ",
                          "99999999999999999999"}) {
    auto refused = rest::parse_message_query({{"after_id", bad}});
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error->status, 400u);
    EXPECT_NE(refused.error->message.find("after_id"), std::string::npos);
  }
}

TEST(rest_requests, chat_send_fills_defaults_and_checks_limits) {
  auto ok = rest::parse_chat_send(
    json{{"message", "hi"}, {"user_email", "ann@example.com"}}, 16);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok.value.user_name, "ann");
  EXPECT_EQ(ok.value.message_type, "text");
  EXPECT_EQ(ok.value.metadata, "{}");
  EXPECT_EQ(ok.value.session_id, 0);
  EXPECT_FALSE(rest::parse_chat_send(
    json{{"message", std::string(17, 'x')}, {"user_email", "a@b.c"}}, 16));
  EXPECT_FALSE(rest::parse_chat_send(json{{"message", "hi"}}, 16));
  EXPECT_FALSE(rest::parse_chat_send(
    json{{"message", "hi"}, {"user_email", "a@b.c"}, {"session_id", "1"}},
    16));
  EXPECT_FALSE(rest::parse_chat_send(
    json{{"message", "hi"}, {"user_email", "a@b.c"}, {"metadata", 1}}, 16));
}

TEST(rest_requests, chat_send_reads_the_resume_token) {
  auto with = rest::parse_chat_send(json{{"message", "hi"},
                                         {"user_email", "a@b.c"},
                                         {"session_id", 7},
                                         {"resume_token", "abc"}},
                                    16);
  ASSERT_TRUE(with);
  EXPECT_EQ(with.value.session_id, 7);
  EXPECT_EQ(with.value.resume_token, "abc");
  auto without = rest::parse_chat_send(
    json{{"message", "hi"}, {"user_email", "a@b.c"}, {"resume_token", nullptr}},
    16);
  ASSERT_TRUE(without);
  EXPECT_EQ(without.value.resume_token, "");
  // Whether it fits is the session's to say; its form is checked here.
  for (const auto& bad : {json(7), json::array(), json(std::string(257, 'a')),
                          json(std::string("a\0b", 3))}) {
    auto parsed = rest::parse_chat_send(json{{"message", "hi"},
                                             {"user_email", "a@b.c"},
                                             {"resume_token", bad}},
                                        16);
    ASSERT_FALSE(parsed) << bad.dump();
    EXPECT_EQ(parsed.error->status, 400u);
  }
}

TEST(rest_requests, setting_values_are_text) {
  EXPECT_EQ(rest::parse_setting_patch(json{{"value", true}}).value.value,
            "true");
  EXPECT_EQ(rest::parse_setting_patch(json{{"value", 30}}).value.value, "30");
  EXPECT_FALSE(rest::parse_setting_patch(json{{"value", json::array()}}));
  EXPECT_FALSE(rest::parse_setting_patch(json::object()));
  EXPECT_EQ(rest::parse_setting_patch(json{{"value", "on"}}).value.value, "on");
  EXPECT_FALSE(
    rest::parse_setting_patch(json{{"value", std::string("a\0b", 3)}}));
}

TEST(rest_requests, nul_characters_are_refused) {
  EXPECT_FALSE(rest::parse_new_user(
    json{{"name", std::string("a\0b", 3)}, {"email", "a@b.c"}}));
  EXPECT_FALSE(rest::parse_chat_send(
    json{{"message", std::string("hi\0", 3)}, {"user_email", "a@b.c"}}, 99));
}

} // namespace
} // namespace parley::transport
