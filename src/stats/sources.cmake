# The statistics library's sources and unit tests (src/stats/ owns this list).
set(DLB_STATS_SOURCES stats/descriptive.cc)
set(DLB_STATS_TESTS stats/descriptive_test.cc)
