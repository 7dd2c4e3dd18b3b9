#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/records.hpp"

namespace parley::storage {

class database;

/// SQL for the `orders` table the get_order tool reads. Like the other
/// repositories: bound parameters, statements prepared once, runs inside
/// the caller's transaction if one is open, errors leave as storage_error.
class order_repository {
public:
  explicit order_repository(database& db);
  ~order_repository();

  order_repository(const order_repository&) = delete;
  order_repository& operator=(const order_repository&) = delete;

  std::optional<order_record> find_order(const std::string& id);

  /// Inserts the order, or replaces the one with the same id.
  void save_order(const order_record& order);

  std::int64_t count_orders();

private:
  struct statements;

  database& db_;
  std::unique_ptr<statements> st_;
};

/// Reads orders from JSON text: an array of objects with "id", "status",
/// "carrier", "tracking", "items" (array) and optional "updated_at". Throws
/// config_error naming `origin` and the entry that is wrong.
std::vector<order_record> parse_orders(std::string_view text,
                                       const std::string& origin);

/// parse_orders() on a file's contents.
std::vector<order_record> read_orders_file(const std::string& path);

/// Stores `orders` if the table is empty (the first start of a database),
/// in one transaction; returns how many were stored.
std::size_t load_demo_orders(database& db,
                             const std::vector<order_record>& orders);

/// load_demo_orders() with the orders of a file.
std::size_t load_demo_orders(database& db, const std::string& path);

} // namespace parley::storage
