// Small string helpers shared by every folder: nothing here knows about benchmarks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlb {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);

// Edit distance with adjacent transpositions, for "did you mean" suggestions (ninja's SpellcheckStringV).
int EditDistance(std::string_view a, std::string_view b);

// The closest candidate within a small edit distance, or nullopt.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

// "allowed: a, b, c (did you mean "b"?)" for an error line.
std::string AllowedValues(std::string_view word, const std::vector<std::string>& candidates);

std::optional<int64_t> ParseInt(std::string_view s);

// Stored text from outside (names, a worker's log and messages) made safe to print on a terminal:
// C0 controls, DEL, C1 controls (U+0080 to U+009F) and bytes that are not UTF-8 become visible
// escapes ("\x1b", "\u009b", "\xff"), so no escape sequence reaches the terminal (no clearing the
// screen, no OSC title, no NUL cutting a line short). Tab and newline stay when keep_newlines,
// for multi-line text such as logs; otherwise they are escaped too ("\n").
std::string TerminalSafe(std::string_view s, bool keep_newlines = false);

// The first control character (as TerminalSafe defines them) in s, as its escape: nullopt if none.
std::optional<std::string> FirstControl(std::string_view s);

// One CSV field: control characters shown as TerminalSafe does (newlines and tabs kept), RFC 4180
// quoting when it holds a comma, quote, CR or LF; and, as OWASP
// recommends against formula injection, a leading ' when it starts with =, +, -, @, tab or CR and
// is neither a number (a percentage included) nor that one character alone ("-", the tables' "no
// value"), so that a spreadsheet shows it instead of running it.
std::string CsvField(std::string_view s);

// Human-readable durations and sizes for tables and progress lines.
std::string FormatDuration(double seconds);  // "3m10s", "1.2s", "850ms"
std::string FormatNs(double ns);             // "12.3 ms", "45.6 µs"
// A value with an interval in the value's unit: "12.3 ms [12.1, 12.6]".
std::string FormatNsWithInterval(double ns, double lo_ns, double hi_ns);
std::string FormatBytes(double bytes);       // "812.3 MiB"
// A figure such as a throughput: 4 significant digits, never an exponent below 1e15, thousands
// grouped: "19,770", "843.2", "0.01234"; "-" when not finite.
std::string FormatFigure(double v);

// Current UTC time as ISO 8601 with milliseconds: 2026-11-23T10:00:00.123Z.
std::string NowIso8601();

// A server's base URL, "http://host:port" or "https://...": what is wrong with it, or nullopt.
std::optional<std::string> CheckBaseUrl(const std::string& url);

}  // namespace dlb
