#include "storage/order_repository.hpp"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/config_error.hpp"
#include "storage/storage_error.hpp"
#include "storage/database.hpp"
#include "tests/storage/storage_test_support.hpp"

using namespace parley::storage;
using namespace parley::storage::test;

namespace {

class order_repo : public database_fixture {
protected:
  void SetUp() override {
    migrate(db());
    repo_ = std::make_unique<order_repository>(db());
  }

  void TearDown() override {
    repo_.reset();
  }

  std::string write_file(const std::string& name, const std::string& text) {
    auto path = (dir_.path() / name).string();
    std::ofstream{path} << text;
    return path;
  }

  std::unique_ptr<order_repository> repo_;
};

} // namespace

TEST_P(order_repo, save_and_find) {
  EXPECT_FALSE(repo_->find_order("124"));
  order_record order{"124", "shipped", "UPS", "1Z", R"([{"name":"Lamp"}])",
                     "2026-11-18T09:30:00.000000Z"};
  repo_->save_order(order);
  auto found = repo_->find_order("124");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, "shipped");
  EXPECT_EQ(found->carrier, "UPS");
  EXPECT_EQ(found->tracking, "1Z");
  EXPECT_EQ(nlohmann::json::parse(found->items)[0]["name"], "Lamp");
  EXPECT_EQ(found->updated_at, order.updated_at);
  // Saving again replaces; ids are exact text.
  order.status = "delivered";
  order.carrier.clear();
  repo_->save_order(order);
  EXPECT_EQ(repo_->find_order("124")->status, "delivered");
  EXPECT_EQ(repo_->find_order("124")->carrier, "");
  EXPECT_EQ(repo_->count_orders(), 1);
  EXPECT_FALSE(repo_->find_order("0124"));
  EXPECT_FALSE(repo_->find_order("124 "));
}

TEST_P(order_repo, bad_orders_are_refused) {
  EXPECT_THROW(repo_->save_order(order_record{"", "x", "", "", "[]", ""}),
               storage_error);
  EXPECT_THROW(repo_->save_order(
                 order_record{std::string(65, '1'), "x", "", "", "[]", ""}),
               storage_error);
  EXPECT_EQ(repo_->count_orders(), 0);
}

TEST_P(order_repo, the_demo_orders_load_once) {
  auto loaded = load_demo_orders(db(), PARLEY_SOURCE_DIR "/config/demo_orders.json");
  EXPECT_GE(loaded, 2u);
  auto shipped = repo_->find_order("124");
  ASSERT_TRUE(shipped);
  EXPECT_EQ(shipped->status, "shipped");
  EXPECT_EQ(shipped->carrier, "UPS");
  EXPECT_EQ(repo_->find_order("555")->status, "processing");
  // A second start changes nothing, even after an operator's edit.
  shipped->status = "delivered";
  repo_->save_order(*shipped);
  EXPECT_EQ(load_demo_orders(db(), PARLEY_SOURCE_DIR "/config/demo_orders.json"),
            0u);
  EXPECT_EQ(repo_->find_order("124")->status, "delivered");
}

TEST_P(order_repo, a_broken_orders_file_names_the_entry) {
  auto path = write_file("orders.json", R"([{"id":"1","status":"x","items":[]},
                                            {"id":2,"status":"x","items":[]}])");
  try {
    load_demo_orders(db(), path);
    FAIL() << "loaded a broken file";
  } catch (const parley::config_error& err) {
    EXPECT_NE(std::string{err.what()}.find("entry 1"), std::string::npos)
      << err.what();
  }
  EXPECT_EQ(repo_->count_orders(), 0);
  EXPECT_THROW(read_orders_file(write_file("x.json", "{}")),
               parley::config_error);
  EXPECT_THROW(read_orders_file((dir_.path() / "missing.json").string()),
               parley::config_error);
}

INSTANTIATE_TEST_SUITE_P(storage, order_repo, testing::ValuesIn(all_targets()),
                         target_name);
