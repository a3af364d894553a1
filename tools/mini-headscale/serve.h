// mini-headscale serve: the coordination server, its admin socket, the embedded DERP region
// and STUN, wired on one loop until SIGINT/SIGTERM.
#pragma once

#include "settings.h"

namespace meshvpn::tools {

// Runs until a signal; returns the exit status (0, or 1/2 on a start-up failure, printed).
int Serve(ServeSettings settings, bool quiet);

}  // namespace meshvpn::tools
