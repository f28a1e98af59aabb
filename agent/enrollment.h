#ifndef IKELESS_AGENT_ENROLLMENT_H_
#define IKELESS_AGENT_ENROLLMENT_H_

// The agent's certificate: first obtained with a one-time token
// (`ikeless-agent --enroll TOKEN`), then renewed with itself before it
// expires. A renewal changes only the key and certificate files; the stream
// reconnects with them and the installed SAs never notice.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls_credentials.h"

namespace ikeless::agent {

// Trades `token` for a certificate for `node_name` (the controller decides
// the identity) and writes tls.key_file (0600) and tls.cert_file. Refuses to
// overwrite an existing certificate.
absl::Status EnrollNode(const std::string& target, const TlsFiles& tls,
                        const std::string& node_name, const std::string& token);

// Renews the certificate in tls.cert_file if less than `renew_when_left` of
// its lifetime is left (1/3: a 30-day certificate renews after 20 days).
// Returns the new expiry if it renewed, nullopt if not due.
absl::StatusOr<std::optional<absl::Time>> RenewIfDue(const std::string& target,
                                                     const TlsFiles& tls,
                                                     double renew_when_left = 1.0 / 3);

}  // namespace ikeless::agent

#endif  // IKELESS_AGENT_ENROLLMENT_H_
