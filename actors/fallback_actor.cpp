#include "actors/fallback_actor.hpp"

#include "actors/fallback_replies.hpp"

namespace parley {

responder_actor::behavior_type fallback_fun(responder_actor::pointer,
                                            bool limited_mode) {
  return {
    [limited_mode](generate_atom,
                   const reply_request& request) -> reply_result {
      reply_result result;
      result.text = fallback_reply(request.text, request.history,
                                   limited_mode);
      result.source = "fallback";
      result.tokens_used = estimate_tokens(request.text)
                           + estimate_tokens(result.text);
      result.model = "fallback";
      result.finish_reason = "completed";
      return result;
    },
    [](cancel_atom, std::uint64_t) {
      // Canned answers are immediate: nothing to stop.
    },
  };
}

} // namespace parley
