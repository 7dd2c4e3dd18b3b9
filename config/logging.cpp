#include "config/logging.hpp"

#include <mutex>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "config/config_error.hpp"

namespace parley {

namespace {

/// `%*`: the log message as the inside of a JSON string.
class json_message_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : msg.payload) {
      auto uc = static_cast<unsigned char>(c);
      switch (c) {
        case '"':
          dest.append(std::string_view{"\\\""});
          break;
        case '\\':
          dest.append(std::string_view{"\\\\"});
          break;
        case '\n':
          dest.append(std::string_view{"\\n"});
          break;
        case '\r':
          dest.append(std::string_view{"\\r"});
          break;
        case '\t':
          dest.append(std::string_view{"\\t"});
          break;
        default:
          if (uc < 0x20) {
            char esc[] = {'\\', 'u', '0', '0', hex[uc >> 4], hex[uc & 0xF]};
            dest.append(esc, esc + sizeof(esc));
          } else {
            dest.push_back(c);
          }
      }
    }
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

struct logging_setup {
  std::mutex mtx;
  spdlog::sink_ptr sink;
  spdlog::level::level_enum level = spdlog::level::warn;
  log_format format = log_format::text;
};

logging_setup& setup() {
  static logging_setup instance;
  return instance;
}

std::unique_ptr<spdlog::formatter> make_formatter(log_format format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(
    spdlog::pattern_time_type::utc);
  if (format == log_format::json) {
    formatter->add_flag<json_message_flag>('*').set_pattern(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n",)"
      R"("thread":%t,"message":"%*"})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ [%l] %n: %v");
  }
  return formatter;
}

void apply(spdlog::logger& log, logging_setup& s) {
  log.set_level(s.level);
  log.set_formatter(make_formatter(s.format));
  log.flush_on(spdlog::level::info);
}

} // namespace

void setup_logging(const std::string& level, log_format format) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    throw config_error("--log-level / LOG_LEVEL: unknown level '" + level
                       + "'");
  auto& s = setup();
  std::lock_guard<std::mutex> guard{s.mtx};
  s.sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  s.level = lvl;
  s.format = format;
  spdlog::apply_all([&s](const std::shared_ptr<spdlog::logger>& log) {
    log->sinks() = {s.sink};
    apply(*log, s);
  });
}

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  if (auto log = spdlog::get(name))
    return log;
  auto& s = setup();
  std::lock_guard<std::mutex> guard{s.mtx};
  if (auto log = spdlog::get(name))
    return log;
  if (!s.sink)
    s.sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto log = std::make_shared<spdlog::logger>(name, s.sink);
  apply(*log, s);
  spdlog::register_logger(log);
  return log;
}

} // namespace parley
