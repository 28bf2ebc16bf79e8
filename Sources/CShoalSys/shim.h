#include <sys/prctl.h>
#include <signal.h>

// prctl is variadic, which Swift cannot call; this names the one use Shoal has for it.
// A child started by `shoal up` gets `sig` when its parent dies, so no orphan outlives it.
static inline int shoal_die_with_parent(int sig) { return prctl(PR_SET_PDEATHSIG, sig); }
