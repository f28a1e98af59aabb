#ifndef IKELESS_CONTROLLER_AUTHORIZATION_H_
#define IKELESS_CONTROLLER_AUTHORIZATION_H_

// Who may do what. The caller is read from the verified TLS client
// certificate (controller/caller.h), never from a message body:
//   - a node certificate may open an AgentService session for its own name
//     and addresses only, and so request and receive SAs only for pairs
//     that include its own addresses;
//   - an admin certificate may use PolicyService and nothing else;
//   - on a plain-text controller (--insecure) everyone is anonymous and
//     allowed everything: that mode is for loopback tests.
// Pure functions; errors are PERMISSION_DENIED naming the field.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ikeless::controller {

struct Caller {
  enum class Kind { kAnonymous, kNode, kAdmin, kUnknown };
  Kind kind = Kind::kAnonymous;
  std::string name;                    // node or admin name from the certificate
  std::vector<std::string> addresses;  // node: canonical IP SANs
  std::string serial;                  // certificate serial (hex)
  absl::Time not_after = absl::InfiniteFuture();  // certificate expiry
};

class RevocationList;

// Whether `caller` still stands now: certificate not expired (a stream
// outlives its handshake), serial and name not revoked. Anonymous callers
// always stand. `revocations` may be null.
absl::Status CheckStanding(const Caller& caller, const RevocationList* revocations,
                           absl::Time now);

// PolicyService: admins (or anyone on a plain-text controller).
absl::Status AuthorizeAdmin(const Caller& caller);

// AgentService Hello: the node named in its certificate, with addresses
// that its certificate lists. `addresses` are the Hello's, canonical.
absl::Status AuthorizeHello(const Caller& caller, const std::string& node_name,
                            const std::vector<std::string>& addresses);

}  // namespace ikeless::controller

#endif  // IKELESS_CONTROLLER_AUTHORIZATION_H_
