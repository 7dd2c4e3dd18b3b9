#include "storage/order_repository.hpp"

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "config/config_error.hpp"
#include "storage/chat_repository.hpp"
#include "storage/database.hpp"
#include "storage/sql_support.hpp"

namespace parley::storage {

using namespace detail;

struct order_repository::statements : statement_cache {
  explicit statements(database& db) : statement_cache(db) {
    // nop
  }

  std::string id;
  column<std::string> status;
  column<std::string> carrier;
  column<std::string> tracking;
  column<std::string> items;
  column<std::string> updated_at;

  std::unique_ptr<soci::statement> find_st;
  std::unique_ptr<soci::statement> update_st;
  std::unique_ptr<soci::statement> insert_st;
  std::unique_ptr<soci::statement> count_st;

  soci::statement& find() {
    return prepared(find_st,
                    "SELECT status, carrier, tracking, items, updated_at "
                    "FROM orders WHERE id = :id",
                    [this](soci::statement& stmt) {
                      into(stmt, status);
                      into(stmt, carrier);
                      into(stmt, tracking);
                      into(stmt, items);
                      into(stmt, updated_at);
                      stmt.exchange(soci::use(id));
                    });
  }

  // UPDATE, then INSERT when nothing matched: the three dialects spell
  // upserts differently.
  soci::statement& update() {
    return prepared(update_st,
                    "UPDATE orders SET status = :status, carrier = :carrier, "
                    "tracking = :tracking, items = :items, updated_at = "
                    ":updated_at WHERE id = :id",
                    [this](soci::statement& stmt) { bind_values(stmt); });
  }

  soci::statement& insert_order() {
    return prepared(insert_st,
                    "INSERT INTO orders (status, carrier, tracking, items, "
                    "updated_at, id) VALUES (:status, :carrier, :tracking, "
                    ":items, :updated_at, :id)",
                    [this](soci::statement& stmt) { bind_values(stmt); });
  }

  soci::statement& count() {
    return prepared(count_st, "SELECT COUNT(*) FROM orders",
                    [this](soci::statement& stmt) {
                      stmt.exchange(soci::into(scalar));
                    });
  }

  void bind_values(soci::statement& stmt) {
    use(stmt, status);
    use(stmt, carrier);
    use(stmt, tracking);
    use(stmt, items);
    use(stmt, updated_at);
    stmt.exchange(soci::use(id));
  }
};

order_repository::order_repository(database& db)
  : db_(db), st_(std::make_unique<statements>(db)) {
}

order_repository::~order_repository() = default;

std::optional<order_record>
order_repository::find_order(const std::string& id) {
  try {
    st_->recover();
    auto& s = *st_;
    s.id = id;
    std::optional<order_record> result;
    fetch_one(s.find(), [&] {
      result = order_record{id,           s.status.get(), s.carrier.get(),
                            s.tracking.get(), s.items.get(),
                            s.updated_at.get()};
    });
    return result;
  } catch (...) {
    st_->fail("find_order");
  }
}

void order_repository::save_order(const order_record& order) {
  try {
    st_->recover();
    check_required("save_order", "id", order.id);
    check_length("save_order", "id", order.id, 64);
    check_length("save_order", "status", order.status, 32);
    check_length("save_order", "carrier", order.carrier, 64);
    check_length("save_order", "tracking", order.tracking, 128);
    own_transaction trans{db_};
    auto& s = *st_;
    s.id = order.id;
    s.status.set(order.status);
    s.carrier.set_or_null(order.carrier);
    s.tracking.set_or_null(order.tracking);
    s.items.set(order.items.empty() ? std::string{"[]"} : order.items);
    s.updated_at.set(order.updated_at.empty() ? utc_timestamp()
                                              : order.updated_at);
    auto& update = s.update();
    update.execute(true);
    if (update.get_affected_rows() == 0)
      s.insert_order().execute(true);
    trans.commit();
  } catch (...) {
    st_->fail("save_order");
  }
}

std::int64_t order_repository::count_orders() {
  try {
    st_->recover();
    return st_->fetch_scalar(st_->count());
  } catch (...) {
    st_->fail("count_orders");
  }
}

std::vector<order_record> parse_orders(std::string_view text,
                                       const std::string& origin) {
  using nlohmann::json;
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array())
    throw config_error(origin + " must be a JSON array");
  std::vector<order_record> result;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const auto& entry = doc[i];
    auto where = origin + ", entry " + std::to_string(i);
    auto text = [&](const char* key, bool required) -> std::string {
      auto it = entry.find(key);
      if (it == entry.end() || it->is_null()) {
        if (required)
          throw config_error(where + ": missing \"" + key + "\"");
        return {};
      }
      if (!it->is_string())
        throw config_error(where + ": \"" + key + "\" must be a string");
      return it->get<std::string>();
    };
    if (!entry.is_object())
      throw config_error(where + ": must be an object");
    order_record order;
    order.id = text("id", true);
    order.status = text("status", true);
    order.carrier = text("carrier", false);
    order.tracking = text("tracking", false);
    order.updated_at = text("updated_at", false);
    auto items = entry.find("items");
    if (items == entry.end() || !items->is_array())
      throw config_error(where + ": \"items\" must be an array");
    order.items = items->dump();
    result.push_back(std::move(order));
  }
  return result;
}

std::vector<order_record> read_orders_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw config_error("cannot read the orders file " + path);
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  return parse_orders(text, "orders file " + path);
}

std::size_t load_demo_orders(database& db, const std::string& path) {
  return load_demo_orders(db, read_orders_file(path));
}

std::size_t load_demo_orders(database& db,
                             const std::vector<order_record>& orders) {
  order_repository repo{db};
  if (repo.count_orders() > 0)
    return 0;
  db.begin();
  try {
    for (const auto& order : orders)
      repo.save_order(order);
    db.commit();
  } catch (...) {
    db.rollback();
    throw;
  }
  return orders.size();
}

} // namespace parley::storage
