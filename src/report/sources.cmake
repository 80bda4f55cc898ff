# The report library's sources and unit tests (src/report/ owns this list).
set(DLB_REPORT_SOURCES report/table.cc report/summary.cc report/escape.cc report/gnuplot.cc
                        report/plots.cc report/document.cc report/headline.cc)
set(DLB_REPORT_TESTS report/escape_test.cc report/headline_test.cc)
