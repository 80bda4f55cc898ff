// Ctrl-C and SIGTERM: the handler only sets a flag and writes to a self-pipe, so that every blocking
// wait (poll on a worker's reply pipe, a cooldown) wakes at once; the run then kills its worker, marks
// itself incomplete in the database and exits with 130.
#pragma once

namespace dlb {

void InstallInterruptHandlers();  // also ignores SIGPIPE (a dead worker is seen on write)
bool Interrupted();
int InterruptFd();  // readable once interrupted; -1 before InstallInterruptHandlers

// Sleeps up to seconds; returns false if interrupted.
bool InterruptibleSleep(double seconds);

}  // namespace dlb
