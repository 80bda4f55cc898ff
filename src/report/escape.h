// Escaping every database string before it reaches a document: HTML text and attributes, LaTeX
// text, Markdown table cells and gnuplot string literals (CSV fields: dlb::CsvField). Control
// characters become visible escapes first (dlb::TerminalSafe), so an ESC in a name cannot break
// pdflatex or reach a terminal that shows the Markdown.
#pragma once

#include <string>
#include <string_view>

namespace dlb::report {

std::string HtmlEscape(std::string_view s);      // & < > " '
std::string LatexEscape(std::string_view s);     // \ & % $ # _ { } ~ ^
std::string MarkdownEscape(std::string_view s);  // | and < > & (Markdown renders inline HTML)
std::string GnuplotString(std::string_view s);   // a double-quoted gnuplot literal
std::string FileSafe(std::string_view s);        // [A-Za-z0-9._-], the rest as '_'

}  // namespace dlb::report
