// The config the daemon runs on when started without a file: everything on loopback, so that a
// bare `sipring` is safe to start anywhere and reachable only from the host itself. Every key not
// written here takes its default from conf/config.h (see conf/sipring.example.toml).
#include "conf/config.h"

namespace sipring::conf {
namespace {

constexpr std::string_view kDefaultConfig = R"toml(# sipring built-in default configuration (loopback only).
[[listen]]
transport = "udp"
address = "127.0.0.1:5060"

[[backend]]
uri = "sip:127.0.0.1:5070"

[[backend]]
uri = "sip:127.0.0.1:5071"

[admin]
address = "127.0.0.1:9090"
)toml";

}  // namespace

std::string_view DefaultConfigText() { return kDefaultConfig; }

}  // namespace sipring::conf
