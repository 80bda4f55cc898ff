#include "util/strings.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace dlb {

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

int EditDistance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions
  // ("bf61" -> "bf16" is one edit), each costing one.
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  // Allow about one edit per three characters, at least one and at most three.
  int limit = std::clamp(static_cast<int>(word.size()) / 3, 1, 3);
  std::optional<std::string> best;
  int best_d = limit + 1;
  for (const auto& c : candidates) {
    int d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string AllowedValues(std::string_view word, const std::vector<std::string>& candidates) {
  std::string out = "allowed: " + Join(candidates, ", ");
  if (auto m = ClosestMatch(word, candidates)) out += fmt::format(" (did you mean \"{}\"?)", *m);
  return out;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 1) return fmt::format("{:.0f}ms", seconds * 1e3);
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  auto total = static_cast<int64_t>(std::llround(seconds));
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

namespace {
std::pair<double, const char*> NsUnit(double ns) {
  double a = std::fabs(ns);
  if (a >= 1e9) return {1e9, "s"};
  if (a >= 1e6) return {1e6, "ms"};
  if (a >= 1e3) return {1e3, "µs"};
  return {1, "ns"};
}
}  // namespace

std::string FormatNs(double ns) {
  if (!std::isfinite(ns)) return "-";
  auto [scale, unit] = NsUnit(ns);
  return fmt::format("{:.3g} {}", ns / scale, unit);
}

std::string FormatNsWithInterval(double ns, double lo_ns, double hi_ns) {
  if (!std::isfinite(ns)) return "-";
  auto [scale, unit] = NsUnit(ns);
  return fmt::format("{:.4g} {} [{:.4g}, {:.4g}]", ns / scale, unit, lo_ns / scale, hi_ns / scale);
}

std::string FormatBytes(double bytes) {
  if (!std::isfinite(bytes)) return "-";
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string FormatFigure(double v) {
  if (!std::isfinite(v)) return "-";
  double a = std::abs(v);
  if (a < 1e4 || a >= 1e15) return fmt::format("{:.4g}", v);
  double scale = std::pow(10.0, std::floor(std::log10(a)) - 3);
  std::string digits = fmt::format("{:.0f}", std::round(a / scale) * scale);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string NowIso8601() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

namespace {

// The length of the UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;  // overlong
  return n;
}

// The escape for the code point or byte at s[i] of length n (0: a stray byte), or empty when it
// prints as itself.
std::string EscapeAt(std::string_view s, size_t i, size_t n, bool keep_newlines) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (n == 0) return fmt::format("\\x{:02x}", c);
  if (n == 1) {
    if (c == '\n' || c == '\t') return keep_newlines ? "" : (c == '\n' ? "\\n" : "\\t");
    if (c < 0x20 || c == 0x7F) return fmt::format("\\x{:02x}", c);
    return "";
  }
  // U+0080..U+009F are C2 80..C2 9F: the C1 controls (CSI, OSC) that some terminals obey.
  if (n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
    return fmt::format("\\u{:04x}", static_cast<unsigned char>(s[i + 1]));
  }
  return "";
}

}  // namespace

std::string TerminalSafe(std::string_view s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    std::string escape = EscapeAt(s, i, n, keep_newlines);
    if (escape.empty()) {
      out.append(s.substr(i, n));
    } else {
      out += escape;
    }
    i += n == 0 ? 1 : n;
  }
  return out;
}

std::optional<std::string> FirstControl(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n != 0) {
      if (std::string escape = EscapeAt(s, i, n, false); !escape.empty()) return escape;
    }
    i += n == 0 ? 1 : n;
  }
  return std::nullopt;
}

std::string CsvField(std::string_view s) {
  std::string field = TerminalSafe(s, true);
  // A lone sign is the tables' "no value" and a spreadsheet shows it as text; a number (with a
  // percent sign) is a value. Anything else after a trigger could be a formula.
  if (field.size() > 1 && std::string_view("=+-@\t\r").find(field[0]) != std::string_view::npos) {
    char* end = nullptr;
    std::strtod(field.c_str(), &end);
    if (end != field.c_str() && *end == '%') ++end;
    if (end != field.c_str() + field.size()) field.insert(0, 1, '\'');
  }
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::optional<std::string> CheckBaseUrl(const std::string& url) {
  const bool http = url.starts_with("http://"), https = url.starts_with("https://");
  if (!http && !https) return fmt::format("\"{}\" is not an http(s) URL (expected http://host:port)", url);
  const std::string rest = url.substr(http ? 7 : 8);
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') {
    return fmt::format("\"{}\" names no host", url);
  }
  return std::nullopt;
}

}  // namespace dlb
