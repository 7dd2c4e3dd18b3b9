# Writes OUT, a C++ file holding the text of AGENT, ORDERS and WEB: the
# defaults built into the binary (run by config/CMakeLists.txt at build time).
file(READ "${AGENT}" agent_text)
file(READ "${ORDERS}" orders_text)
file(READ "${WEB}" web_text)
foreach(text IN ITEMS "${agent_text}" "${orders_text}" "${web_text}")
  string(FIND "${text}" ")parley_embedded\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "embedded file contains the raw-string delimiter")
  endif()
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from config/agent.json, config/demo_orders.json and config/web.json.
#include \"config/embedded_defaults.hpp\"

namespace parley {

std::string_view embedded_agent_rules() noexcept {
  return R\"parley_embedded(${agent_text})parley_embedded\";
}

std::string_view embedded_demo_orders() noexcept {
  return R\"parley_embedded(${orders_text})parley_embedded\";
}

std::string_view embedded_web_config() noexcept {
  return R\"parley_embedded(${web_text})parley_embedded\";
}

} // namespace parley
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
