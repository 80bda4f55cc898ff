#include "serve/sse.h"

#include <nlohmann/json.hpp>

namespace dlb::serve {

std::vector<std::string> SseParser::Feed(std::string_view bytes) {
  std::vector<std::string> out;
  if (overflowed_) return out;
  for (char c : bytes) {
    if (c == '\n' && last_was_cr_) {  // the \n of a \r\n pair: the line already ended at \r
      last_was_cr_ = false;
      continue;
    }
    last_was_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      Line(line_, out);
      line_.clear();
    } else {
      line_.push_back(c);
      if (line_.size() + data_.size() > max_event_bytes_) {
        overflowed_ = true;
        std::string().swap(line_);  // give the memory back, not only the length
        std::string().swap(data_);
        has_data_ = false;
        return out;
      }
    }
  }
  return out;
}

void SseParser::Line(std::string_view line, std::vector<std::string>& out) {
  if (line.empty()) {  // a blank line dispatches the event
    if (has_data_) out.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment
  const size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon), value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
}

std::optional<StreamEvent> ParseStreamEvent(std::string_view data, std::string* error) {
  StreamEvent ev;
  if (data == "[DONE]") {
    ev.done = true;
    return ev;
  }
  nlohmann::json j = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "not a JSON object: " + std::string(data.substr(0, 80));
    return std::nullopt;
  }
  if (auto e = j.find("error"); e != j.end()) {
    ev.error = e->is_object() && e->contains("message") && (*e)["message"].is_string()
                   ? (*e)["message"].get<std::string>()
                   : e->dump();
    return ev;
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    if (auto c = u->find("completion_tokens"); c != u->end() && c->is_number_integer()) {
      ev.usage_completion_tokens = c->get<int64_t>();
    }
    if (auto c = u->find("prompt_tokens"); c != u->end() && c->is_number_integer()) {
      ev.usage_prompt_tokens = c->get<int64_t>();
    }
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array()) {
    if (ev.usage_completion_tokens) return ev;  // the usage-only final chunk
    *error = "no \"choices\" array: " + std::string(data.substr(0, 80));
    return std::nullopt;
  }
  if (choices->empty()) return ev;
  const nlohmann::json& c = (*choices)[0];
  if (!c.is_object()) {
    *error = "choices[0] is not an object";
    return std::nullopt;
  }
  auto text_of = [](const nlohmann::json& o, const char* key) -> std::string {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (c.contains("text")) {
    ev.text = text_of(c, "text");
  } else if (auto d = c.find("delta"); d != c.end() && d->is_object()) {
    ev.text = text_of(*d, "reasoning_content") + text_of(*d, "content");
  }
  if (auto lp = c.find("logprobs"); lp != c.end() && lp->is_object()) {
    // completions: {"tokens": [...], ...}; chat: {"content": [{token, logprob}, ...]}
    if (auto t = lp->find("tokens"); t != lp->end() && t->is_array()) {
      ev.logprob_tokens = static_cast<int64_t>(t->size());
    } else if (auto ct = lp->find("content"); ct != lp->end() && ct->is_array()) {
      ev.logprob_tokens = static_cast<int64_t>(ct->size());
    }
  }
  return ev;
}

}  // namespace dlb::serve
