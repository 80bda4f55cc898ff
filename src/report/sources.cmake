# The report library's sources and unit tests (src/report/ owns this list).
set(DLB_REPORT_SOURCES report/table.cc report/summary.cc)
set(DLB_REPORT_TESTS)
