// dlbench-sse-fixture: a local OpenAI-compatible streaming server that produces tokens on a fixed
// clock, for testing and benchmarking dlbench's own load generator (never a model). It answers
// POST /v1/completions and /v1/chat/completions with max_tokens tokens over SSE, each chunk
// carrying --tokens-per-chunk tokens (and as many logprob entries when asked), --itl-us apart after
// --ttft-us, then a usage chunk and [DONE]; GET /health answers 200. With --log FILE it writes one
// JSON line per request: its X-Request-Id and the CLOCK_MONOTONIC time each chunk was written, the
// reference the client's timestamps are checked against. --fault makes every --fault-every-th
// request fail one way: http429, http500, malformed, truncate, stall, or die (the process exits
// half-way through that request's stream).
//
// Capacity. By default every stream runs on its own clock, so latency does not grow with the load.
// With --slots K at most K streams are served at once: a request that finds them all busy waits in a
// first-come-first-served queue before its first token (its TTFT then includes the wait), which is
// what a server with a fixed batch size does once rate x service time exceeds K.
#include <time.h>

#include <utility>  // before Boost 1.74's asio, whose awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

struct Options {
  int port = 0;
  int64_t ttft_us = 0, itl_us = 0;
  int tokens_per_chunk = 1;
  std::string fault;  // empty: none
  int64_t fault_every = 1;
  std::string log_path;
  std::string port_file;
  int64_t slots = 0;  // 0: unlimited
};

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void SleepUntil(int64_t t_ns) {
  // Sleep to within 200 us, then spin: nanosleep alone overshoots by 50-100 us.
  for (;;) {
    const int64_t left = t_ns - NowNs();
    if (left <= 0) return;
    if (left > 200'000) {
      timespec ts{(left - 200'000) / 1'000'000'000, (left - 200'000) % 1'000'000'000};
      nanosleep(&ts, nullptr);
    }
  }
}

// At most `capacity` holders at once, granted in the order they asked (a ticket queue).
class Slots {
 public:
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t ticket = next_ticket_++;
    cv_.wait(lock, [&] { return ticket == next_served_ && busy_ < capacity_; });
    ++next_served_;
    ++busy_;
    cv_.notify_all();  // the next ticket may fit too
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
    cv_.notify_all();
  }
  int64_t capacity_ = 0;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ticket_ = 0, next_served_ = 0;
  int64_t busy_ = 0;
};
Slots g_slots;

// Holds one slot for a stream's lifetime (no-op without --slots).
class SlotGuard {
 public:
  explicit SlotGuard(bool limited) : held_(limited) {
    if (held_) g_slots.Acquire();
  }
  ~SlotGuard() {
    if (held_) g_slots.Release();
  }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;

 private:
  bool held_;
};

std::mutex g_log_mu;
std::ofstream g_log;
std::atomic<int64_t> g_requests{0};

void Serve(tcp::socket sock, const Options& opt) {
  beast::error_code ec;
  beast::flat_buffer buf;
  for (;;) {
    http::request<http::string_body> req;
    http::read(sock, buf, req, ec);
    if (ec) return;
    if (req.method() == http::verb::get) {
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"status":"ok"})";
      res.prepare_payload();
      res.keep_alive(req.keep_alive());
      http::write(sock, res, ec);
      if (ec || !req.keep_alive()) return;
      continue;
    }
    const int64_t n = ++g_requests;
    const bool faulty = !opt.fault.empty() && n % opt.fault_every == 0;
    nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, false);
    const int64_t max_tokens = body.is_object() && body.contains("max_tokens") && body["max_tokens"].is_number_integer()
                                   ? body["max_tokens"].get<int64_t>()
                                   : 16;
    const bool chat = req.target().find("chat") != beast::string_view::npos;
    const bool logprobs = body.is_object() && body.contains("logprobs") &&
                          !(body["logprobs"].is_boolean() && !body["logprobs"].get<bool>());
    if (faulty && (opt.fault == "http429" || opt.fault == "http500")) {
      http::response<http::string_body> res{
          opt.fault == "http429" ? http::status::too_many_requests : http::status::internal_server_error,
          req.version()};
      res.set(http::field::content_type, "application/json");
      res.body() = R"({"error":{"message":"fixture fault"}})";
      res.prepare_payload();
      res.keep_alive(req.keep_alive());
      http::write(sock, res, ec);
      if (ec || !req.keep_alive()) return;
      continue;
    }
    const SlotGuard slot(opt.slots > 0);  // queued here, before the first token, while all are busy
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/event-stream");
    res.chunked(true);
    res.keep_alive(req.keep_alive());
    http::response_serializer<http::empty_body> sr{res};
    http::write_header(sock, sr, ec);
    if (ec) return;
    std::vector<int64_t> sent;
    sent.reserve(static_cast<size_t>(max_tokens));
    const int64_t t_start = NowNs();
    int64_t t_next = t_start + opt.ttft_us * 1000;
    int64_t produced = 0;
    bool broke = false;
    while (produced < max_tokens) {
      const int k = static_cast<int>(std::min<int64_t>(opt.tokens_per_chunk, max_tokens - produced));
      if (faulty && produced >= max_tokens / 2) {
        if (opt.fault == "truncate") { broke = true; break; }
        if (opt.fault == "die") std::_Exit(1);
        if (opt.fault == "stall") std::this_thread::sleep_for(std::chrono::seconds(3600));
      }
      nlohmann::json choice = {{"index", 0}, {"finish_reason", nullptr}};
      std::string text;
      for (int i = 0; i < k; ++i) text += "tok ";
      if (chat) {
        choice["delta"] = {{"content", text}};
      } else {
        choice["text"] = text;
      }
      if (logprobs) {
        if (chat) {
          nlohmann::json content = nlohmann::json::array();
          for (int i = 0; i < k; ++i) content.push_back({{"token", "tok "}, {"logprob", -0.5}});
          choice["logprobs"] = {{"content", content}};
        } else {
          choice["logprobs"] = {{"tokens", std::vector<std::string>(static_cast<size_t>(k), "tok ")},
                                {"token_logprobs", std::vector<double>(static_cast<size_t>(k), -0.5)}};
        }
      }
      // Shaped like an OpenAI server's chunk, "object" included: some clients drop chunks without it.
      const nlohmann::json chunk = {{"id", "cmpl-fixture-" + std::to_string(n)},
                                    {"object", chat ? "chat.completion.chunk" : "text_completion"},
                                    {"model", "fixture"},
                                    {"choices", {choice}}};
      std::string event = "data: " + chunk.dump() + "\n\n";
      if (faulty && opt.fault == "malformed" && produced == 0) event = "data: {\"choices\": [\n\n";
      SleepUntil(t_next);
      const int64_t now = NowNs();
      net::write(sock, http::make_chunk(net::buffer(event)), ec);
      sent.push_back(now);
      if (ec) return;
      produced += k;
      t_next = now + opt.itl_us * 1000;
    }
    if (broke) {
      sock.shutdown(tcp::socket::shutdown_both, ec);
      return;
    }
    std::string tail = "data: " +
                       nlohmann::json{{"choices", nlohmann::json::array()},
                                      {"usage", {{"completion_tokens", produced}}}}.dump() +
                       "\n\ndata: [DONE]\n\n";
    net::write(sock, http::make_chunk(net::buffer(tail)), ec);
    net::write(sock, http::make_chunk_last(), ec);
    if (!opt.log_path.empty()) {
      nlohmann::json line = {{"id", std::string(req["X-Request-Id"])}, {"sent_ns", sent}};
      std::lock_guard<std::mutex> lock(g_log_mu);
      g_log << line.dump() << '\n';
      g_log.flush();
    }
    if (ec || !req.keep_alive()) return;
  }
}

int Usage(const char* msg) {
  std::fprintf(stderr,
               "dlbench-sse-fixture: %s\nusage: dlbench-sse-fixture [--port N (0: any)] [--port-file F] "
               "[--ttft-us N] [--itl-us N] [--tokens-per-chunk K] [--fault http429|http500|malformed|"
               "truncate|stall|die] [--fault-every N] [--log FILE] [--slots K (streams served at once; 0: no limit)]\n",
               msg);
  return 2;
}

bool ParseInt(const char* s, int64_t& out) {
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, out);
  return ec == std::errc() && p == end;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return Usage(("missing value for " + a).c_str());
    const char* v = argv[++i];
    int64_t x = 0;
    if (a == "--log") { opt.log_path = v; continue; }
    if (a == "--port-file") { opt.port_file = v; continue; }
    if (a == "--fault") {
      opt.fault = v;
      if (opt.fault != "http429" && opt.fault != "http500" && opt.fault != "malformed" &&
          opt.fault != "truncate" && opt.fault != "stall" && opt.fault != "die") {
        return Usage(("unknown --fault " + opt.fault).c_str());
      }
      continue;
    }
    if (!ParseInt(v, x) || x < 0) return Usage((a + " needs a non-negative integer").c_str());
    if (a == "--port") opt.port = static_cast<int>(x);
    else if (a == "--ttft-us") opt.ttft_us = x;
    else if (a == "--itl-us") opt.itl_us = x;
    else if (a == "--tokens-per-chunk") opt.tokens_per_chunk = std::max<int>(1, static_cast<int>(x));
    else if (a == "--fault-every") opt.fault_every = std::max<int64_t>(1, x);
    else if (a == "--slots") opt.slots = x;
    else return Usage(("unknown option " + a).c_str());
  }
  g_slots.capacity_ = opt.slots;
  if (!opt.log_path.empty()) g_log.open(opt.log_path, std::ios::app);
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(opt.port)});
  const int port = acceptor.local_endpoint().port();
  if (!opt.port_file.empty()) {
    std::ofstream(opt.port_file + ".tmp") << port << '\n';
    std::rename((opt.port_file + ".tmp").c_str(), opt.port_file.c_str());
  }
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  for (;;) {
    tcp::socket sock(ioc);
    acceptor.accept(sock);
    sock.set_option(tcp::no_delay(true));
    std::thread([s = std::move(sock), &opt]() mutable { Serve(std::move(s), opt); }).detach();
  }
}
