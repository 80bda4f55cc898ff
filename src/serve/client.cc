#include "serve/client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "serve/sse.h"
#include "util/interrupt.h"
#include "util/random.h"

namespace dlb::serve {

int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string ApiName(Api a) { return a == Api::kChat ? "chat" : "completions"; }

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// workers/serve/make_tiny_gguf.py gives each of these words a token of its own (PROMPT_WORDS).
const char* kWords[] = {"the", "model", "reads", "a", "long", "prompt", "and", "writes", "tokens",
                        "one", "by", "one", "while", "the", "client", "keeps", "time"};

std::string RequestBody(const Endpoint& ep, const ScheduledRequest& r, uint64_t seed) {
  Rng rng(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(r.index) + 17);
  nlohmann::json body = {{"model", ep.model},
                         {"max_tokens", r.output_tokens},
                         {"min_tokens", r.output_tokens},
                         {"ignore_eos", true},
                         {"temperature", 0},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}}};
  if (ep.eos_token) body["logit_bias"] = {{std::to_string(*ep.eos_token), -100}};
  if (ep.api == Api::kCompletions && !ep.text_prompts) {
    std::vector<int64_t> ids(static_cast<size_t>(r.input_tokens));
    const auto span = static_cast<uint64_t>(std::max<int64_t>(1, ep.vocab_hi - ep.vocab_lo));
    for (auto& id : ids) id = ep.vocab_lo + static_cast<int64_t>(UniformIndex(rng, span));
    // The first token follows the request's index, so that no two consecutive requests share a
    // prefix that a server's prompt cache could reuse.
    if (!ids.empty()) ids[0] = ep.vocab_lo + static_cast<int64_t>(static_cast<uint64_t>(r.index) % span);
    body["prompt"] = ids;
    if (ep.logprobs) body["logprobs"] = 1;
  } else {
    std::string text;
    for (int64_t i = 0; i < r.input_tokens; ++i) {
      if (i) text += ' ';
      // The first word follows the index (no two neighbours in kWords are equal), as above.
      text += kWords[i == 0 ? static_cast<size_t>(r.index) % std::size(kWords) : UniformIndex(rng, std::size(kWords))];
    }
    if (ep.api == Api::kChat) {
      body["messages"] = nlohmann::json::array({{{"role", "user"}, {"content", text}}});
      if (ep.logprobs) body["logprobs"] = true;
    } else {
      body["prompt"] = text;
      if (ep.logprobs) body["logprobs"] = 1;
    }
  }
  return body.dump();
}

struct Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  RequestTrace* trace = nullptr;
  int64_t t0 = 0, added_ns = 0;
  int64_t first_read_ns = 0;  // when libcurl first asked for the body: it is about to send the request
  std::string body;
  size_t body_sent = 0;
  SseParser parser;
  std::string error_body;
  std::string malformed, server_error;
  bool saw_done = false;
  bool all_logprobs = true;
  int64_t text_chunks = 0;
  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
  }
};

// libcurl asks for the body once the connection is ready and the request's headers are written:
// that moment is the request's sent time, on the client's own clock.
size_t OnRead(char* out, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->first_read_ns == 0) t->first_read_ns = MonotonicNs();
  const size_t len = std::min(size * n, t->body.size() - t->body_sent);
  std::memcpy(out, t->body.data() + t->body_sent, len);
  t->body_sent += len;
  return len;
}

// libcurl rewinds the body to send the request again on a new connection, when a reused one turned
// out to be closed; the send time is then the new attempt's.
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset != 0) return CURL_SEEKFUNC_CANTSEEK;
  t->body_sent = 0;
  t->first_read_ns = 0;
  return CURL_SEEKFUNC_OK;
}

size_t OnWrite(char* p, size_t size, size_t n, void* user) {
  const int64_t now = MonotonicNs();
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  long code = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) {
    if (t->error_body.size() < 200) t->error_body.append(p, std::min<size_t>(len, 200));
    return len;
  }
  std::vector<std::string> events = t->parser.Feed({p, len});
  if (t->parser.Overflowed()) {
    // A line or event past the bound: the request fails as malformed, and returning less than
    // len makes libcurl end this transfer (CURLE_WRITE_ERROR) while the others go on.
    t->malformed = fmt::format("an event longer than {} bytes (the bound of one server-sent event)",
                               kMaxSseEventBytes);
    return 0;
  }
  for (const std::string& data : events) {
    std::string err;
    std::optional<StreamEvent> ev = ParseStreamEvent(data, &err);
    if (!ev) {
      if (t->malformed.empty()) t->malformed = err;
      continue;
    }
    if (ev->done) {
      t->saw_done = true;
      continue;
    }
    if (ev->error) {
      if (t->server_error.empty()) t->server_error = *ev->error;
      continue;
    }
    if (ev->usage_completion_tokens) t->trace->usage_output_tokens = *ev->usage_completion_tokens;
    if (ev->usage_prompt_tokens) t->trace->usage_input_tokens = *ev->usage_prompt_tokens;
    int64_t tokens = 0;
    if (ev->logprob_tokens) {
      tokens = *ev->logprob_tokens;
    } else if (!ev->text.empty()) {
      tokens = 1;
      t->all_logprobs = false;
      ++t->text_chunks;
    }
    if (tokens > 0) t->trace->chunks.push_back({now - t->t0, static_cast<int32_t>(tokens)});
  }
  return len;
}

void Finish(Transfer& t, CURLcode rc, int64_t now) {
  RequestTrace& tr = *t.trace;
  tr.done_ns = now - t.t0;
  curl_off_t pre_us = 0;
  if (t.first_read_ns > 0) {
    tr.sent_ns = t.first_read_ns - t.t0;
  } else if (curl_easy_getinfo(t.easy, CURLINFO_PRETRANSFER_TIME_T, &pre_us) == CURLE_OK) {
    tr.sent_ns = t.added_ns - t.t0 + static_cast<int64_t>(pre_us) * 1000;
  }
  long code = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
  if (!tr.chunks.empty()) {
    if (t.all_logprobs) {
      tr.token_source = kTokensFromLogprobs;
    } else if (tr.usage_output_tokens == t.text_chunks) {
      tr.token_source = kTokensFromUsage;
    } else {
      tr.token_source = kTokensFromChunks;
    }
  }
  auto fail = [&](std::string status, std::string error) {
    tr.status = std::move(status);
    tr.error = std::move(error);
  };
  switch (rc) {
    case CURLE_OK: break;
    case CURLE_OPERATION_TIMEDOUT: return fail("timeout", curl_easy_strerror(rc));
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: return fail("connect", curl_easy_strerror(rc));
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING: return fail("truncated", curl_easy_strerror(rc));
    case CURLE_WRITE_ERROR:  // OnWrite refused the stream
      if (!t.malformed.empty()) return fail("malformed", t.malformed);
      return fail("transport", curl_easy_strerror(rc));
    default: return fail("transport", curl_easy_strerror(rc));
  }
  if (code != 200) return fail(fmt::format("http_{}", code), t.error_body);
  if (!t.server_error.empty()) return fail("server_error", t.server_error);
  if (!t.malformed.empty()) return fail("malformed", t.malformed);
  if (!t.saw_done || t.parser.Pending()) {
    return fail("truncated", fmt::format("the stream ended without [DONE] after {} tokens",
                                         tr.OutputTokens()));
  }
}

}  // namespace

LoadResult Drive(const Endpoint& ep, const std::vector<ScheduledRequest>& schedule,
                 const DriveOptions& options) {
  GlobalInit();
  const LoadSpec& spec = options.spec;
  const std::string url =
      ep.base_url + (ep.api == Api::kChat ? "/v1/chat/completions" : "/v1/completions");
  std::vector<RequestTrace> traces(schedule.size());
  std::vector<std::unique_ptr<Transfer>> transfers(schedule.size());
  CURLM* multi = curl_multi_init();
  const int64_t t0 = MonotonicNs();
  const auto total = static_cast<int64_t>(schedule.size());
  int64_t next = 0, in_flight = 0, finished = 0, warmup_left = 0;
  for (const auto& r : schedule) warmup_left += r.warmup ? 1 : 0;
  int64_t measured_start = -1;  // offline: when the measured batch became due

  // A request's transfer is built (its body, its handle, its headers) before it is due where the
  // schedule allows, so that at its due time only the hand-over to libcurl's loop is left.
  auto prepare = [&](int64_t i) {
    if (transfers[static_cast<size_t>(i)]) return;
    const ScheduledRequest& r = schedule[static_cast<size_t>(i)];
    RequestTrace& tr = traces[static_cast<size_t>(i)];
    tr.index = r.index;
    tr.warmup = r.warmup;
    tr.input_tokens = r.input_tokens;
    tr.output_tokens_requested = r.output_tokens;
    auto t = std::make_unique<Transfer>();
    t->trace = &tr;
    t->t0 = t0;
    t->body = RequestBody(ep, r, spec.seed);
    t->easy = curl_easy_init();
    t->headers = curl_slist_append(nullptr, "Content-Type: application/json");
    t->headers = curl_slist_append(t->headers, "Accept: text/event-stream");
    // No "Expect: 100-continue" round trip before a large body (a long context's prompt).
    t->headers = curl_slist_append(t->headers, "Expect:");
    // A request id servers log and some validate as a UUID (llama-cpp-python answers 400 to any
    // other form): a version-4 UUID whose last field is the request's index.
    t->headers = curl_slist_append(
        t->headers, fmt::format("X-Request-Id: 00000000-0000-4000-8000-{:012x}", r.index).c_str());
    curl_easy_setopt(t->easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(t->easy, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(t->easy, CURLOPT_READDATA, t.get());
    curl_easy_setopt(t->easy, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(t->easy, CURLOPT_SEEKDATA, t.get());
    curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, OnWrite);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, static_cast<long>(ep.request_timeout_s * 1000));
    curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(ep.stall_timeout_s)));
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t.get());
    transfers[static_cast<size_t>(i)] = std::move(t);
  };
  auto start = [&](int64_t i, int64_t due_ns) {
    prepare(i);
    Transfer* t = transfers[static_cast<size_t>(i)].get();
    t->trace->due_ns = due_ns;
    t->added_ns = MonotonicNs();
    curl_multi_add_handle(multi, t->easy);
    ++in_flight;
  };

  constexpr int64_t kSpinNs = 300'000;  // spin, not poll, this close to a due time
  bool cancelled = false;
  while (finished < total) {
    if (Interrupted()) {
      cancelled = true;
      break;
    }
    int64_t now = MonotonicNs() - t0;
    int64_t next_due = -1;  // ns from t0 of the next open-loop start, -1 when none is waiting
    while (next < total) {
      const ScheduledRequest& r = schedule[static_cast<size_t>(next)];
      if (spec.arrival == Arrival::kOffline) {
        if (!r.warmup && warmup_left > 0) break;  // the measured batch waits for the warm-up set
        if (!r.warmup && measured_start < 0) measured_start = now;
        start(next, r.warmup ? 0 : measured_start);
      } else if (spec.arrival == Arrival::kClosed) {
        if (in_flight >= spec.concurrency) break;
        start(next, now);
      } else {
        if (r.due_ns > now) {
          next_due = r.due_ns;
          prepare(next);
          break;
        }
        start(next, r.due_ns);
      }
      ++next;
      now = MonotonicNs() - t0;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    bool freed = false;  // a request ended: the closed loop (or the offline batch) may start more now
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      Finish(*t, msg->data.result, MonotonicNs());
      curl_multi_remove_handle(multi, t->easy);
      if (t->trace->warmup) --warmup_left;
      --in_flight;
      ++finished;
      freed = true;
      if (options.progress) options.progress(finished, total);
    }
    if (freed) continue;
    int64_t wait_ns = 100'000'000;
    if (next_due >= 0) wait_ns = std::min(wait_ns, next_due - (MonotonicNs() - t0));
    if (wait_ns > kSpinNs) {
      curl_waitfd extra{};
      int n_extra = 0;
      if (InterruptFd() >= 0) {
        extra.fd = InterruptFd();
        extra.events = CURL_WAIT_POLLIN;
        n_extra = 1;
      }
      const int ms = static_cast<int>((wait_ns - kSpinNs) / 1'000'000);
      curl_multi_poll(multi, n_extra ? &extra : nullptr, static_cast<unsigned>(n_extra), ms, nullptr);
    }
  }
  if (cancelled) {
    const int64_t now = MonotonicNs();
    for (int64_t i = 0; i < total; ++i) {
      RequestTrace& tr = traces[static_cast<size_t>(i)];
      Transfer* t = transfers[static_cast<size_t>(i)].get();
      const bool launched = t != nullptr && t->added_ns > 0;  // not merely prepared
      if (launched && tr.done_ns == 0 && tr.status == "ok") {
        curl_multi_remove_handle(multi, t->easy);
        tr.done_ns = now - t0;
        tr.status = "cancelled";
        tr.error = "interrupted";
      } else if (!launched) {
        const ScheduledRequest& r = schedule[static_cast<size_t>(i)];
        tr.index = r.index;
        tr.warmup = r.warmup;
        tr.input_tokens = r.input_tokens;
        tr.output_tokens_requested = r.output_tokens;
        tr.status = "cancelled";
        tr.error = "never sent: interrupted";
      }
    }
  }
  transfers.clear();
  curl_multi_cleanup(multi);
  return {t0, std::move(traces)};
}

std::optional<long> HttpGetStatus(const std::string& url, double timeout_s) {
  GlobalInit();
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, +[](char*, size_t s, size_t n, void*) { return s * n; });
  const CURLcode rc = curl_easy_perform(easy);
  long code = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(easy);
  if (rc != CURLE_OK) return std::nullopt;
  return code;
}

}  // namespace dlb::serve
