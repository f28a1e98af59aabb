#include "controller/pki/certificate_authority.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "controller/pki/csr.h"
#include "controller/pki/file_io.h"
#include "controller/pki/serial.h"

namespace ikeless::pki {
namespace {

Clock* OrSystemClock(Clock* clock) { return clock != nullptr ? clock : SystemClock::Get(); }
RandomSource* OrCryptoRandom(RandomSource* random) {
  return random != nullptr ? random : CryptoRandom::Get();
}

// Certificates carry whole seconds.
absl::Time WholeSeconds(absl::Time t) { return absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

absl::Status ValidateCaOptions(const CaOptions& options) {
  const std::string& cn = options.common_name;
  if (cn.empty() || cn.size() > 64) {
    return absl::InvalidArgumentError("common_name: must be 1 to 64 characters");
  }
  for (char c : cn) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError("common_name: use printable ASCII characters only");
    }
  }
  if (options.validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("validity: must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

CertificateAuthority::CertificateAuthority(EvpPkeyPtr key, X509Ptr certificate,
                                           std::string certificate_pem, absl::Time not_after,
                                           Clock* clock, RandomSource* random)
    : key_(std::move(key)),
      certificate_(std::move(certificate)),
      certificate_pem_(std::move(certificate_pem)),
      not_after_(not_after),
      clock_(clock),
      random_(random) {}

absl::StatusOr<CertificateAuthority> CertificateAuthority::Init(const std::string& dir,
                                                                const CaOptions& options) {
  absl::Status s = ValidateCaOptions(options);
  if (!s.ok()) return s;
  s = EnsureDirectory(dir, "dir");
  if (!s.ok()) return s;
  const std::string key_path = JoinPath(dir, kKeyFile);
  const std::string cert_path = JoinPath(dir, kCertificateFile);
  for (const std::string& path : {key_path, cert_path}) {
    if (PathExists(path)) {
      return absl::AlreadyExistsError(
          absl::StrCat("dir: ", path, " already exists; refusing to overwrite a CA"));
    }
  }

  Clock* clock = OrSystemClock(options.clock);
  RandomSource* random = OrCryptoRandom(options.random);
  auto key = GenerateEcP256Key();
  if (!key.ok()) return key.status();
  auto serial = RandomSerial(*random);
  if (!serial.ok()) return serial.status();
  absl::Time now = WholeSeconds(clock->Now());
  CertificateSpec spec;
  spec.use = CertificateUse::kCa;
  spec.common_name = options.common_name;
  spec.not_before = now - kBackdate;
  spec.not_after = WholeSeconds(now + options.validity);
  auto cert = BuildCertificate(spec, key->get(), serial->get(), nullptr, key->get());
  if (!cert.ok()) return cert.status();
  auto cert_pem = CertificateToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = PrivateKeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();

  s = WriteNewFile(key_path, key_pem->pem(), 0600, kKeyFile);
  if (!s.ok()) return s;
  s = WriteNewFile(cert_path, *cert_pem, 0644, kCertificateFile);
  if (!s.ok()) {
    unlink(key_path.c_str());  // a key without its certificate is useless
    return s;
  }
  auto serial_hex = SerialHex(serial->get());
  LogInfo("ca_created")
      .Kv("dir", dir)
      .Kv("serial", serial_hex.ok() ? *serial_hex : "?")
      .Kv("not_after", TimeText(spec.not_after));
  return CertificateAuthority(*std::move(key), *std::move(cert), *std::move(cert_pem),
                              spec.not_after, clock, random);
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::Load(const std::string& dir,
                                                                Clock* clock,
                                                                RandomSource* random) {
  const std::string key_path = JoinPath(dir, kKeyFile);
  const std::string cert_path = JoinPath(dir, kCertificateFile);
  mode_t mode = 0;
  auto key_text = ReadSmallFile(key_path, kKeyFile, &mode);
  if (!key_text.ok()) return key_text.status();
  PrivateKeyPem key_pem(*std::move(key_text));  // wiped when we return
  if ((mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: mode %04o lets other users read the CA key; run chmod 600 %s",
                        kKeyFile, mode & 0777, key_path));
  }
  auto key = PrivateKeyFromPem(key_pem.pem(), kKeyFile);
  if (!key.ok()) return key.status();
  absl::Status s = CheckEcP256(key->get(), kKeyFile);
  if (!s.ok()) return s;

  auto cert_pem = ReadSmallFile(cert_path, kCertificateFile);
  if (!cert_pem.ok()) return cert_pem.status();
  auto cert = CertificateFromPem(*cert_pem, kCertificateFile);
  if (!cert.ok()) return cert.status();
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ClearOpenSslErrors();
    return absl::FailedPreconditionError(
        absl::StrCat(kCertificateFile, ": ", cert_path, " does not belong to ", key_path));
  }
  if (X509_check_ca(cert->get()) < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(kCertificateFile, ": ", cert_path, " is not a CA certificate"));
  }
  auto not_after = Asn1TimeToTime(X509_get0_notAfter(cert->get()), kCertificateFile);
  if (!not_after.ok()) return not_after.status();
  return CertificateAuthority(*std::move(key), *std::move(cert), *std::move(cert_pem), *not_after,
                              OrSystemClock(clock), OrCryptoRandom(random));
}

absl::StatusOr<IssuedCertificate> CertificateAuthority::Issue(
    const CertificateRequest& request) const {
  auto spec = SpecForRequest(request);
  if (!spec.ok()) return spec.status();
  absl::Time now = WholeSeconds(clock_->Now());
  if (now >= not_after_) {
    return absl::FailedPreconditionError(
        absl::StrCat("ca.crt: the CA certificate expired at ", TimeText(not_after_)));
  }
  absl::Duration validity = RequestedValidity(request);
  if (validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("validity: must be positive");
  }
  spec->not_before = now - kBackdate;
  spec->not_after = WholeSeconds(now + validity);
  if (spec->not_after > not_after_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "validity: ", absl::FormatDuration(validity), " would end at ", TimeText(spec->not_after),
        ", after the CA certificate expires (", TimeText(not_after_), ")"));
  }

  IssuedCertificate issued;
  EvpPkeyPtr subject_key;
  if (request.csr_pem.empty()) {
    auto generated = GenerateEcP256Key();
    if (!generated.ok()) return generated.status();
    auto pem = PrivateKeyToPem(generated->get());
    if (!pem.ok()) return pem.status();
    issued.private_key_pem = *std::move(pem);
    subject_key = *std::move(generated);
  } else {
    auto from_csr = PublicKeyFromCsrPem(request.csr_pem, "csr_pem");
    if (!from_csr.ok()) return from_csr.status();
    subject_key = *std::move(from_csr);
  }

  auto serial = RandomSerial(*random_);
  if (!serial.ok()) return serial.status();
  auto serial_hex = SerialHex(serial->get());
  if (!serial_hex.ok()) return serial_hex.status();
  auto cert =
      BuildCertificate(*spec, subject_key.get(), serial->get(), certificate_.get(), key_.get());
  if (!cert.ok()) return cert.status();
  auto cert_pem = CertificateToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  issued.certificate_pem = *std::move(cert_pem);
  issued.serial_hex = *std::move(serial_hex);
  issued.not_before = spec->not_before;
  issued.not_after = spec->not_after;
  LogInfo("certificate_issued")
      .Kv("kind", CertificateKindName(request.kind))
      .Kv("name", request.name)
      .Kv("serial", issued.serial_hex)
      .Kv("key", request.csr_pem.empty() ? "generated" : "csr")
      .Kv("not_after", TimeText(issued.not_after));
  return issued;
}

}  // namespace ikeless::pki
