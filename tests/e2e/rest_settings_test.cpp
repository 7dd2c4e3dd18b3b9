// REST contract: /api/settings and /api/settings/{key}, on every test
// backend.

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/rest_fixture.hpp"

using namespace parley::test;
using json = nlohmann::json;

namespace {

class rest_settings : public rest_fixture {};

PARLEY_REST_SUITE(rest_settings);

const json* find_key(const json& list, const std::string& key) {
  for (const auto& item : list)
    if (item.is_object() && item.contains("key") && item["key"] == key)
      return &item;
  return nullptr;
}

TEST_P(rest_settings, list_has_the_seeded_defaults_without_pagination) {
  auto reply = api().get("/api/settings");
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_FALSE(reply.json.contains("pagination")) << reply.describe();
  const auto& data = reply.data();
  ASSERT_TRUE(data.is_array()) << reply.describe();
  for (const auto& setting : data)
    EXPECT_TRUE(is_setting_object(setting));
  auto* advanced = find_key(data, "enable_advanced_ai");
  ASSERT_NE(advanced, nullptr) << reply.describe();
  EXPECT_EQ((*advanced)["category"], "ai") << *advanced;
  std::vector<std::string> keys;
  for (const auto& setting : data)
    keys.push_back(setting.value("key", ""));
  auto unique_keys = keys;
  std::sort(unique_keys.begin(), unique_keys.end());
  EXPECT_TRUE(std::adjacent_find(unique_keys.begin(), unique_keys.end())
              == unique_keys.end())
    << "keys are unique: " << reply.describe();
}

TEST_P(rest_settings, category_filter) {
  auto ai = api().get("/api/settings?category=ai");
  ASSERT_TRUE(is_success(ai, 200));
  ASSERT_TRUE(ai.data().is_array()) << ai.describe();
  EXPECT_NE(find_key(ai.data(), "enable_advanced_ai"), nullptr) << ai.describe();
  for (const auto& setting : ai.data())
    EXPECT_EQ(setting["category"], "ai") << ai.describe();

  auto all = api().get("/api/settings");
  ASSERT_TRUE(is_success(all, 200));
  EXPECT_LT(ai.data().size(), all.data().size())
    << "the seeded settings have more than one category";

  auto none = api().get("/api/settings?category=" + unique("nocat"));
  ASSERT_TRUE(is_success(none, 200));
  EXPECT_EQ(none.data(), json::array()) << none.describe();
}

TEST_P(rest_settings, get_one_and_404) {
  auto reply = api().get("/api/settings/enable_advanced_ai");
  ASSERT_TRUE(is_success(reply, 200));
  ASSERT_TRUE(is_setting_object(reply.data())) << reply.describe();
  EXPECT_EQ(reply.data()["key"], "enable_advanced_ai");
  EXPECT_EQ(reply.data()["category"], "ai");
  auto all = api().get("/api/settings");
  ASSERT_TRUE(is_success(all, 200));
  auto* listed = find_key(all.data(), "enable_advanced_ai");
  ASSERT_NE(listed, nullptr) << all.describe();
  EXPECT_EQ(reply.data(), *listed);

  EXPECT_TRUE(is_error(api().get("/api/settings/" + unique("missing")), 404));
}

TEST_P(rest_settings, put_updates_value_and_description) {
  auto before = api().get("/api/settings/welcome_message");
  ASSERT_TRUE(is_success(before, 200));
  auto original = before.data();

  auto reply = api().put("/api/settings/welcome_message",
                         {{"value", "Hi there!"},
                          {"description", "Changed by a test"}});
  ASSERT_TRUE(is_success(reply, 200));
  const auto& setting = reply.data();
  ASSERT_TRUE(is_setting_object(setting)) << reply.describe();
  EXPECT_EQ(setting["key"], "welcome_message");
  EXPECT_EQ(setting["value"], "Hi there!");
  EXPECT_EQ(setting["description"], "Changed by a test");
  EXPECT_EQ(setting["category"], original["category"]);
  EXPECT_EQ(setting["id"], original["id"]);
  EXPECT_EQ(setting["created_at"], original["created_at"]);
  EXPECT_GE(setting["updated_at"].get<std::string>(),
            original["updated_at"].get<std::string>());

  // Without a description, the description stays.
  auto value_only = api().put("/api/settings/welcome_message",
                              {{"value", "Hello again"}});
  ASSERT_TRUE(is_success(value_only, 200));
  EXPECT_EQ(value_only.data()["value"], "Hello again");
  EXPECT_EQ(value_only.data()["description"], "Changed by a test")
    << value_only.describe();

  auto got = api().get("/api/settings/welcome_message");
  ASSERT_TRUE(is_success(got, 200));
  EXPECT_EQ(got.data(), value_only.data()) << got.describe();

  // Put it back for the other tests on this server.
  EXPECT_TRUE(is_success(api().put("/api/settings/welcome_message",
                                   {{"value", original["value"]},
                                    {"description", original["description"]}}),
                         200));
}

TEST_P(rest_settings, put_creates_a_new_key_in_general) {
  auto key = unique("new_key_");
  auto reply = api().put("/api/settings/" + key,
                         {{"value", "v1"}, {"description", "made by a test"}});
  ASSERT_TRUE(is_success(reply, 200));
  const auto& setting = reply.data();
  ASSERT_TRUE(is_setting_object(setting)) << reply.describe();
  EXPECT_EQ(setting["key"], key);
  EXPECT_EQ(setting["value"], "v1");
  EXPECT_EQ(setting["description"], "made by a test");
  EXPECT_EQ(setting["category"], "general");

  auto general = api().get("/api/settings?category=general");
  ASSERT_TRUE(is_success(general, 200));
  auto* listed = find_key(general.data(), key);
  ASSERT_NE(listed, nullptr) << general.describe();
  EXPECT_EQ(*listed, setting);

  // Values are strings, stored as given (empty, long, non-ASCII).
  for (std::string value : {std::string{}, std::string(5000, 'x'),
                            std::string{"grüße, 日本 🙂"},
                            std::string{"{\"json\": \"as text\"}"}}) {
    auto put = api().put("/api/settings/" + key, {{"value", value}});
    ASSERT_TRUE(is_success(put, 200));
    EXPECT_EQ(put.data()["value"], value);
    auto got = api().get("/api/settings/" + key);
    ASSERT_TRUE(is_success(got, 200));
    EXPECT_EQ(got.data()["value"], value) << got.describe();
  }
}

TEST_P(rest_settings, keys_are_percent_decoded) {
  auto key = unique("with space ");
  auto reply = api().put("/api/settings/" + url_encode(key), {{"value", "x"}});
  ASSERT_TRUE(is_success(reply, 200));
  EXPECT_EQ(reply.data()["key"], key) << reply.describe();
  auto got = api().get("/api/settings/" + url_encode(key));
  ASSERT_TRUE(is_success(got, 200));
  EXPECT_EQ(got.data()["key"], key) << got.describe();
}

TEST_P(rest_settings, put_rejects_bad_bodies_with_400) {
  auto key = unique("bad_");
  const json bodies[] = {
    json::object(),
    {{"description", "no value"}},
    {{"value", nullptr}},
    {{"value", json::array({1})}},
    {{"value", json::object()}},
    {{"value", "ok"}, {"description", 5}},
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.dump());
    EXPECT_TRUE(is_error(api().put("/api/settings/" + key, body), 400));
    EXPECT_TRUE(is_error(api().put("/api/settings/enable_advanced_ai", body),
                         400));
  }
  // Nothing was created or changed.
  EXPECT_TRUE(is_error(api().get("/api/settings/" + key), 404));
  auto advanced = api().get("/api/settings/enable_advanced_ai");
  ASSERT_TRUE(is_success(advanced, 200));
  EXPECT_TRUE(advanced.data()["value"].is_string());
}

// Settings are text; a JSON number or boolean is stored as its JSON text, so
// `{"value": false}` works as a seed client would expect.
TEST_P(rest_settings, put_stores_numbers_and_booleans_as_text) {
  auto key = unique("typed_");
  auto number = api().put("/api/settings/" + key, json{{"value", 42}});
  ASSERT_TRUE(is_success(number, 200)) << number.describe();
  EXPECT_EQ(number.data()["value"], "42");
  auto flag = api().put("/api/settings/" + key, json{{"value", false}});
  ASSERT_TRUE(is_success(flag, 200)) << flag.describe();
  EXPECT_EQ(flag.data()["value"], "false");
  EXPECT_EQ(api().get("/api/settings/" + key).data()["value"], "false");
}

} // namespace
