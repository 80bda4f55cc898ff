# The statistics library's sources and unit tests (src/stats/ owns this list).
set(DLB_STATS_SOURCES stats/descriptive.cc stats/sample_check.cc stats/two_sample.cc stats/shapiro.cc
                      stats/bootstrap.cc stats/multitest.cc stats/power.cc
                      stats/number_file.cc)
set(DLB_STATS_TESTS stats/descriptive_test.cc stats/two_sample_test.cc stats/shapiro_test.cc
                    stats/bootstrap_test.cc stats/multitest_test.cc stats/power_test.cc stats/edges_test.cc)
